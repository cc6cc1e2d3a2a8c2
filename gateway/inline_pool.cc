#include "gateway/inline_pool.h"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "compute/compute.h"

namespace zfactor::gateway {

std::optional<proto::StatusOr<proto::Result>> ComputeInline(proto::Kind kind, const std::string& n,
                                                            std::optional<double> max_seconds) {
  if (kind == proto::Kind::kIsPrime) {
    auto quick = compute::IsPrimeWithoutProof(n);
    if (!quick.ok()) return proto::StatusOr<proto::Result>(quick.error());
    if (!quick.value()) return std::nullopt;
    return proto::StatusOr<proto::Result>(std::move(*quick.value()));
  }
  math::Budget budget;
  if (max_seconds) budget.max_seconds = *max_seconds;
  return compute::Compute(kind, n, budget);
}

InlinePool::InlinePool(int threads) : event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
}

InlinePool::~InlinePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  for (std::thread& t : threads_) t.join();
  if (event_fd_ >= 0) close(event_fd_);
}

void InlinePool::Submit(std::vector<Task> tasks) {
  if (tasks.empty()) return;
  outstanding_ += tasks.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Task& task : tasks) tasks_.push_back(std::move(task));
  }
  if (tasks.size() == 1) {
    work_.notify_one();
  } else {
    work_.notify_all();
  }
}

std::vector<InlinePool::Done> InlinePool::Drain() {
  uint64_t count = 0;
  (void)!read(event_fd_, &count, sizeof count);  // clears readiness; EAGAIN when none
  std::vector<Done> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.swap(done_);
  }
  outstanding_ -= out.size();
  return out;
}

void InlinePool::Loop() {
  // Below the I/O thread: on a machine whose cores the math fills, the loop
  // still gets a core at once when a request arrives (Linux applies nice
  // per thread). Best effort: an unprivileged process may only raise it.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kComputeNice);
  while (true) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (stop_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    Done done;
    if (task.first || !task.budget || task.budget->left_us.load() > 0) {
      const auto start = std::chrono::steady_clock::now();
      done.result = ComputeInline(task.kind, task.n, task.max_seconds);
      if (task.budget) {
        task.budget->left_us -= std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - start)
                                    .count();
      }
    }
    done.task = std::move(task);
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake = done_.empty();
      done_.push_back(std::move(done));
    }
    if (wake) {
      const uint64_t one = 1;
      (void)!write(event_fd_, &one, sizeof one);
    }
  }
}

}  // namespace zfactor::gateway
