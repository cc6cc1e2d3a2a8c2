// A small command-line flag parser: `--name value`, `--name=value`, and bare
// `--name` for booleans. Every executable gets `--help` from the definitions.
#ifndef ZFACTOR_CORE_FLAGS_H_
#define ZFACTOR_CORE_FLAGS_H_

#include <string>
#include <vector>

#include "proto/error.h"

namespace zfactor::core {

class Flags {
 public:
  // `usage` is printed first by --help, e.g. "zfactor-broker [options]".
  explicit Flags(std::string usage) : usage_(std::move(usage)) {}

  // Each Define binds a flag to a variable that already holds its default.
  // REQUIRES: the variable outlives Parse().
  void Define(const std::string& name, std::string* value, const std::string& help);
  void Define(const std::string& name, int* value, const std::string& help);
  void Define(const std::string& name, double* value, const std::string& help);
  void Define(const std::string& name, bool* value, const std::string& help);

  // Parses argv. Non-flag words are collected in positional(). On `--help`
  // prints the help to stdout and sets help_requested().
  proto::Status Parse(int argc, char** argv);

  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& positional() const { return positional_; }
  std::string Help() const;

 private:
  enum class Type { kString, kInt, kDouble, kBool };
  struct Def {
    std::string name;
    Type type;
    void* target;
    std::string help;
    std::string default_text;
  };
  proto::Status Set(const Def& def, const std::string& text);

  std::string usage_;
  std::vector<Def> defs_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

}  // namespace zfactor::core

#endif  // ZFACTOR_CORE_FLAGS_H_
