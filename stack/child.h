// Child processes of zfactor-stack: spawn with a ready-file, wait for it,
// stop with SIGTERM then SIGKILL. POSIX only (fork/exec, prctl on Linux).
#ifndef ZFACTOR_STACK_CHILD_H_
#define ZFACTOR_STACK_CHILD_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace zfactor::stack {

// Reads a ready-file of `name=value` lines (as core::WriteReadyFile writes them).
// nullopt while it does not exist.
std::optional<std::map<std::string, std::string>> ReadReadyFile(const std::string& path);

// The directory holding the running executable (from /proc/self/exe).
std::string SelfDirectory();

// One supervised program. Not copyable: it owns the process it started.
class Child {
 public:
  // `name` is used in log lines; `argv[0]` is the executable's path.
  Child(std::string name, std::vector<std::string> argv, std::string ready_file);
  ~Child();  // stops the process if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Forks and execs. The child gets its own process group (so a terminal ^C
  // reaches only the launcher, which stops children in order), an unblocked
  // signal mask and PR_SET_PDEATHSIG=SIGTERM. Removes a stale ready-file first.
  bool Start();

  // Polls for the ready-file until it exists (true) or the process exits,
  // `timeout` passes or `give_up` (optional) returns true (false). Reaps the
  // child if it exited.
  bool WaitReady(std::chrono::milliseconds timeout, const std::function<bool()>& give_up = {});

  // Non-blocking reap: true when the process has exited (sets exit_status()).
  bool Reap();

  // SIGTERM, wait up to `grace`, then SIGKILL and wait. Idempotent.
  void Stop(std::chrono::milliseconds grace);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::string& ready_file() const { return ready_file_; }
  // Human-readable description of how the last process ended.
  const std::string& exit_status() const { return exit_status_; }
  std::vector<std::string>& argv() { return argv_; }

 private:
  std::string name_;
  std::vector<std::string> argv_;
  std::string ready_file_;
  pid_t pid_ = -1;
  std::string exit_status_;
};

}  // namespace zfactor::stack

#endif  // ZFACTOR_STACK_CHILD_H_
