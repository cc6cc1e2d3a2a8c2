// Line-oriented logging to stderr: `ZF_LOG(kInfo) << "worker " << id << " joined";`
// Each line carries a UTC timestamp, the level and the process's component name.
#ifndef ZFACTOR_CORE_LOG_H_
#define ZFACTOR_CORE_LOG_H_

#include <sstream>
#include <string>

namespace zfactor::core {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Sets the component name printed on every line (e.g. "broker") and the
// lowest level printed. Call once at start-up.
void InitLogging(const std::string& component, LogLevel min_level = LogLevel::kInfo);

// One log line; written (atomically, whole) when destroyed.
class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  std::ostringstream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

bool LogEnabled(LogLevel level);

// Turns the stream expression into void so ZF_LOG can be one expression.
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace zfactor::core

// An expression, not an if/else, so `if (x) ZF_LOG(kInfo) << ...;` needs no braces.
#define ZF_LOG(level)                                                       \
  !::zfactor::core::LogEnabled(::zfactor::core::LogLevel::level)            \
      ? (void)0                                                             \
      : ::zfactor::core::LogVoidify() &                                     \
            ::zfactor::core::LogLine(::zfactor::core::LogLevel::level).stream()

#endif  // ZFACTOR_CORE_LOG_H_
