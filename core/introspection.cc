#include "core/introspection.h"

#include <atomic>

namespace asidekv::core {
namespace {

std::atomic<AdminStarter> admin_starter{nullptr};
std::atomic<AdminStarter> metrics_starter{nullptr};

}  // namespace

void SetAdminStarter(AdminStarter starter) {
  admin_starter.store(starter, std::memory_order_release);
}

AdminStarter GetAdminStarter() { return admin_starter.load(std::memory_order_acquire); }

void SetMetricsStarter(AdminStarter starter) {
  metrics_starter.store(starter, std::memory_order_release);
}

AdminStarter GetMetricsStarter() { return metrics_starter.load(std::memory_order_acquire); }

}  // namespace asidekv::core
