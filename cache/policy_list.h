// PolicyList: an intrusive doubly-linked list of PolicyNode, the queue both policies build on.
//
// A circular list with a sentinel, so linking and unlinking never branch on the ends. The list
// owns no node; it tracks how many nodes are linked and the sum of their charges. "Front" is the
// most recently pushed node, "back" the oldest.
//
// Thread safety: none; the owning policy is called under its shard's lock.
// Not copyable or movable: linked nodes point at the sentinel inside the list.

#ifndef ASIDEKV_CACHE_POLICY_LIST_H_
#define ASIDEKV_CACHE_POLICY_LIST_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "cache/eviction_policy.h"

namespace asidekv::cache {

class PolicyList {
 public:
  PolicyList() { head_.prev = head_.next = &head_; }
  PolicyList(const PolicyList&) = delete;
  PolicyList& operator=(const PolicyList&) = delete;

  bool empty() const { return head_.next == &head_; }
  size_t size() const { return size_; }
  // Sum of the charges of the linked nodes.
  uint64_t charge() const { return charge_; }

  // The newest node, or nullptr when empty.
  PolicyNode* front() const { return empty() ? nullptr : head_.next; }
  // The oldest node, or nullptr when empty.
  PolicyNode* back() const { return empty() ? nullptr : head_.prev; }
  // The next older node after `node`, or nullptr at the back. REQUIRES: `node` is linked here.
  PolicyNode* older(const PolicyNode* node) const {
    return node->next == &head_ ? nullptr : node->next;
  }

  // REQUIRES: `node` is not linked in any list.
  void PushFront(PolicyNode* node) {
    node->prev = &head_;
    node->next = head_.next;
    head_.next->prev = node;
    head_.next = node;
    ++size_;
    charge_ += node->charge;
  }

  // REQUIRES: `node` is linked in this list.
  void Remove(PolicyNode* node) {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = nullptr;
    --size_;
    charge_ -= node->charge;
  }

 private:
  // Only prev/next are used. Mutable so that const readers can hand out non-const node pointers.
  mutable PolicyNode head_;
  size_t size_ = 0;
  uint64_t charge_ = 0;
};

// Appends up to `n` nodes of `lists` to `out`: list by list in the order given, within a list
// higher freq first (from max_freq down to 0), then newer first. Reads freq with LoadFreq, as hits
// may bump it concurrently. For Hottest() of policies whose
// freq counts hits. O(lists' sizes x (max_freq + 1)), no allocation beyond `out`.
inline void AppendByFreq(std::initializer_list<const PolicyList*> lists, int max_freq, size_t n,
                         std::vector<PolicyNode*>* out) {
  for (const PolicyList* list : lists) {
    for (int freq = max_freq; freq >= 0; --freq) {
      for (PolicyNode* node = list->front(); node != nullptr; node = list->older(node)) {
        if (n == 0) return;
        if (LoadFreq(node) == freq) {
          out->push_back(node);
          --n;
        }
      }
    }
  }
}

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_POLICY_LIST_H_
