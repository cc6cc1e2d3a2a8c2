#include "core/flags.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace zfactor::core {

using proto::ErrorCode;
using proto::MakeError;
using proto::Status;

void Flags::Define(const std::string& name, std::string* value, const std::string& help) {
  defs_.push_back({name, Type::kString, value, help, *value});
}
void Flags::Define(const std::string& name, int* value, const std::string& help) {
  defs_.push_back({name, Type::kInt, value, help, std::to_string(*value)});
}
void Flags::Define(const std::string& name, double* value, const std::string& help) {
  std::ostringstream text;
  text << *value;
  defs_.push_back({name, Type::kDouble, value, help, text.str()});
}
void Flags::Define(const std::string& name, bool* value, const std::string& help) {
  defs_.push_back({name, Type::kBool, value, help, *value ? "true" : "false"});
}

Status Flags::Set(const Def& def, const std::string& text) {
  auto bad = [&](const char* what) {
    return MakeError(ErrorCode::kBadRequest, "--" + def.name + " needs " + what + ", got '" + text + "'");
  };
  char* end = nullptr;
  errno = 0;
  switch (def.type) {
    case Type::kString:
      *static_cast<std::string*>(def.target) = text;
      return Status::Ok();
    case Type::kInt: {
      long v = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0 || v < INT32_MIN || v > INT32_MAX) {
        return bad("an integer");
      }
      *static_cast<int*>(def.target) = static_cast<int>(v);
      return Status::Ok();
    }
    case Type::kDouble: {
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || errno != 0) return bad("a number");
      *static_cast<double*>(def.target) = v;
      return Status::Ok();
    }
    case Type::kBool:
      if (text == "true" || text == "1" || text == "yes") {
        *static_cast<bool*>(def.target) = true;
      } else if (text == "false" || text == "0" || text == "no") {
        *static_cast<bool*>(def.target) = false;
      } else {
        return bad("true or false");
      }
      return Status::Ok();
  }
  return Status::Ok();
}

Status Flags::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      std::fputs(Help().c_str(), stdout);
      return Status::Ok();
    }
    if (arg == "--") {
      for (++i; i < argc; ++i) positional_.push_back(argv[i]);
      break;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Def* def = nullptr;
    for (const Def& d : defs_) {
      if (d.name == name) def = &d;
    }
    if (def == nullptr) {
      return MakeError(ErrorCode::kBadRequest, "unknown option --" + name + " (see --help)");
    }
    if (!has_value) {
      if (def->type == Type::kBool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return MakeError(ErrorCode::kBadRequest, "--" + name + " needs a value");
      }
    }
    Status s = Set(*def, value);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

std::string Flags::Help() const {
  std::string out = "usage: " + usage_ + "\n\noptions:\n";
  for (const Def& d : defs_) {
    std::string head = "  --" + d.name;
    if (d.type != Type::kBool) head += " VALUE";
    if (head.size() < 28) head.resize(28, ' ');
    out += head + " " + d.help;
    if (!d.default_text.empty()) out += " (default: " + d.default_text + ")";
    out += "\n";
  }
  out += "  --help                     show this help\n";
  return out;
}

}  // namespace zfactor::core
