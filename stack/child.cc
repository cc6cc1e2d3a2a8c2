#include "stack/child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

namespace zfactor::stack {

std::optional<std::map<std::string, std::string>> ReadReadyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

std::string SelfDirectory() {
  char buf[4096];
  const ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (len <= 0) return ".";
  std::string path(buf, static_cast<std::size_t>(len));
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Child::Child(std::string name, std::vector<std::string> argv, std::string ready_file)
    : name_(std::move(name)), argv_(std::move(argv)), ready_file_(std::move(ready_file)) {}

Child::~Child() { Stop(std::chrono::milliseconds(2000)); }

bool Child::Start() {
  if (running()) return true;
  if (access(argv_[0].c_str(), X_OK) != 0) {
    exit_status_ = argv_[0] + ": " + std::strerror(errno);
    return false;
  }
  if (!ready_file_.empty()) std::remove(ready_file_.c_str());
  // Everything the child needs is built before fork: no allocation after it.
  std::vector<char*> args;
  args.reserve(argv_.size() + 1);
  for (std::string& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid < 0) {
    exit_status_ = std::string("fork failed: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the launcher died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    const char msg[] = "zfactor-stack: exec failed\n";
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(127);
  }
  pid_ = pid;
  exit_status_.clear();
  return true;
}

bool Child::WaitReady(std::chrono::milliseconds timeout, const std::function<bool()>& give_up) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (give_up && give_up()) return false;
    if (ReadReadyFile(ready_file_)) return true;
    if (Reap()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool Child::Reap() {
  if (pid_ <= 0) return true;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return false;
  if (r < 0) {
    exit_status_ = std::string("lost: ") + std::strerror(errno);
  } else if (WIFEXITED(status)) {
    exit_status_ = "exited with status " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    exit_status_ = std::string("killed by signal ") + strsignal(WTERMSIG(status));
  } else {
    return false;  // stopped/continued: still alive
  }
  pid_ = -1;
  return true;
}

void Child::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Reap()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_status_ = "killed after grace period";
  pid_ = -1;
}

}  // namespace zfactor::stack
