// RingQueue: a FIFO of trivially copyable items in one growable ring buffer, for the cache's
// bookkeeping queues (version records, ghost hashes), whose memory is counted in the budget.
//
// Unlike std::deque it allocates nothing while empty and its memory is exactly
// capacity() * sizeof(T): the buffer doubles when full and halves when a quarter full, so every
// operation is O(1) amortised.
//
// Thread safety: none.

#ifndef ASIDEKV_CACHE_RING_QUEUE_H_
#define ASIDEKV_CACHE_RING_QUEUE_H_

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace asidekv::cache {

template <typename T>
class RingQueue {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  RingQueue() = default;
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // Items the buffer has room for; its heap bytes are capacity() * sizeof(T).
  size_t capacity() const { return capacity_; }

  // REQUIRES: !empty().
  const T& front() const { return buf_[head_]; }

  void push_back(const T& item) {
    if (size_ == capacity_) Resize(capacity_ == 0 ? 8 : 2 * capacity_);
    buf_[(head_ + size_) & (capacity_ - 1)] = item;
    ++size_;
  }

  // REQUIRES: !empty().
  void pop_front() {
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    if (capacity_ > 8 && size_ < capacity_ / 4) Resize(capacity_ / 2);
  }

  // Removes the items for which `pred` is true, keeping the others in order. O(size()).
  template <typename Pred>
  void erase_if(Pred pred) {
    size_t kept = 0;
    for (size_t i = 0; i < size_; ++i) {
      const T item = buf_[(head_ + i) & (capacity_ - 1)];
      if (!pred(item)) buf_[(head_ + kept++) & (capacity_ - 1)] = item;
    }
    size_ = kept;
    while (capacity_ > 8 && size_ < capacity_ / 4) Resize(capacity_ / 2);
  }

 private:
  // REQUIRES: new_capacity is a power of two >= size_.
  void Resize(size_t new_capacity) {
    std::unique_ptr<T[]> buf(new T[new_capacity]);
    for (size_t i = 0; i < size_; ++i) buf[i] = buf_[(head_ + i) & (capacity_ - 1)];
    buf_ = std::move(buf);
    capacity_ = new_capacity;
    head_ = 0;
  }

  std::unique_ptr<T[]> buf_;
  size_t capacity_ = 0;  // 0 or a power of two.
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_RING_QUEUE_H_
