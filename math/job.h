// Per-call state shared by the strategy ladder and the algorithms it runs:
// the budget, the caller's hooks, the wall-clock deadline and the effort log
// (internal to the math engine).
#ifndef ZFACTOR_MATH_JOB_H_
#define ZFACTOR_MATH_JOB_H_

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "math/factor.h"

namespace zfactor::math {

class Job {
 public:
  using Clock = std::chrono::steady_clock;

  // Both references must outlive the Job.
  Job(const Budget& budget, const Hooks& hooks) : budget_(budget), hooks_(hooks) {
    if (budget.max_seconds > 0) {
      deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(budget.max_seconds));
    }
  }
  const Budget& budget() const { return budget_; }
  const Hooks& hooks() const { return hooks_; }

  bool TimeUp() const { return deadline_ && Clock::now() >= *deadline_; }
  // The wall-clock deadline from budget.max_seconds (unset without one).
  std::optional<Clock::time_point> deadline() const { return deadline_; }
  // Seconds until the deadline (infinity without one).
  double SecondsLeft() const {
    if (!deadline_) return std::numeric_limits<double>::infinity();
    return std::chrono::duration<double>(*deadline_ - Clock::now()).count();
  }
  // True once the caller cancelled or the time budget ran out: algorithms
  // poll this and return what they have.
  bool Stopped() const { return hooks_.Cancelled() || TimeUp(); }

  void Progress(const char* stage, double fraction) const {
    if (hooks_.on_progress) hooks_.on_progress(stage, fraction);
  }

  // Effort log: each entry once, in first-seen order; Set replaces the entry
  // that starts with `key` (used for running counters).
  void Note(const std::string& what) {
    if (std::find(effort_.begin(), effort_.end(), what) == effort_.end()) effort_.push_back(what);
  }
  void Set(const std::string& key, const std::string& what) {
    for (auto& e : effort_) {
      if (e.compare(0, key.size(), key) == 0) {
        e = what;
        return;
      }
    }
    effort_.push_back(what);
  }
  std::string Effort() const {
    std::string s;
    for (const auto& e : effort_) s += (s.empty() ? "" : "; ") + e;
    return s;
  }

 private:
  const Budget& budget_;
  const Hooks& hooks_;
  std::optional<Clock::time_point> deadline_;
  std::vector<std::string> effort_;
};

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_JOB_H_
