#include "client/format.h"

#include <cmath>
#include <cstdio>

namespace zfactor::client {
namespace {

std::string NotFinalLine(const proto::Answer& a) {
  if (a.state == proto::JobState::kFailed) {
    std::string detail = "failed";
    if (a.error)
      detail += std::string(": ") + proto::ErrorCodeName(a.error->code) + ": " + a.error->message;
    return a.n + ": <" + detail + ">";
  }
  std::string line = a.n + ": <" + proto::JobStateName(a.state) + ">";
  if (!a.job.empty()) line += " job " + a.job;
  if (a.progress) {
    const proto::Progress& p = *a.progress;
    line += " (" + p.stage;
    if (p.fraction >= 0) line += " " + std::to_string(static_cast<int>(p.fraction * 100)) + "%";
    line += ", " + std::to_string(p.age_ms / 1000) + " s ago";
    if (!p.factors.empty()) {
      line += "; factors so far:";
      for (const std::string& f : p.factors) line += " " + f;
    }
    line += ")";
  }
  return line;
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

}  // namespace

std::string FormatFactorLine(const proto::Answer& a) {
  if (a.state != proto::JobState::kDone || !a.result) return NotFinalLine(a);
  std::string line = a.n + ":";
  // "C" lists no factors: n itself is the composite left unsplit.
  if (a.result->status == "C" && a.result->factors.empty()) return line + " [C]" + a.n;
  for (const proto::Factor& f : a.result->factors) {
    const std::string text = (f.status == "P" ? std::string() : "[" + f.status + "]") + f.p;
    for (uint32_t i = 0; i < f.e; ++i) line += " " + text;
  }
  return line;
}

std::string FormatIsPrimeLine(const proto::Answer& a) {
  if (a.state != proto::JobState::kDone || !a.result) return NotFinalLine(a);
  const std::string& s = a.result->status;
  if (s == "P") return a.n + ": prime";
  if (s == "PRP") return a.n + ": probable prime";
  if (s == "U") return a.n + ": unit (not prime)";
  if (s == "Zero") return a.n + ": zero (not prime)";
  if (s == "C" || s == "FF" || s == "CF") return a.n + ": composite";
  return a.n + ": unknown status " + s;
}

std::string FormatAnswerLine(const proto::Answer& a) {
  return a.kind == proto::Kind::kFactor ? FormatFactorLine(a) : FormatIsPrimeLine(a);
}

std::string FormatAnswerDetail(const proto::Answer& a, bool local) {
  std::string line = a.n + ": kind=" + proto::KindName(a.kind) +
                     " state=" + proto::JobStateName(a.state) +
                     " source=" + (local ? "local" : proto::SourceName(a.source));
  if (!a.job.empty()) line += " job=" + a.job;
  if (a.result) {
    line += " status=" + a.result->status + " effort=" + JsonString(a.result->effort);
    char ms[32];
    std::snprintf(ms, sizeof(ms), "%.3f", a.result->ms);
    line += std::string(" ms=") + ms;
  }
  return line;
}

bool IsComplete(const proto::Answer& a) {
  if (a.state != proto::JobState::kDone || !a.result) return false;
  if (a.kind == proto::Kind::kIsPrime) return true;
  const std::string& s = a.result->status;
  return s == "FF" || s == "P" || s == "PRP" || s == "U" || s == "Zero";
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string AnswerToJson(const proto::Answer& a, bool local) {
  std::string out = "{\"n\":" + JsonString(a.n) +
                    ",\"kind\":" + JsonString(proto::KindName(a.kind)) +
                    ",\"state\":" + JsonString(proto::JobStateName(a.state)) +
                    ",\"source\":" + JsonString(local ? "local" : proto::SourceName(a.source));
  if (!a.job.empty()) out += ",\"job\":" + JsonString(a.job);
  if (a.result) {
    const proto::Result& r = *a.result;
    out += ",\"result\":{\"status\":" + JsonString(r.status) + ",\"factors\":[";
    for (std::size_t i = 0; i < r.factors.size(); ++i) {
      const proto::Factor& f = r.factors[i];
      if (i > 0) out += ",";
      out += "{\"p\":" + JsonString(f.p) + ",\"e\":" + std::to_string(f.e) +
             ",\"status\":" + JsonString(f.status) + "}";
    }
    out += "],\"effort\":" + JsonString(r.effort) + ",\"ms\":" + JsonNumber(r.ms) + "}";
  }
  if (a.error) {
    out += ",\"error\":{\"code\":" + JsonString(proto::ErrorCodeName(a.error->code)) +
           ",\"message\":" + JsonString(a.error->message) + "}";
  }
  if (a.progress) {
    const proto::Progress& p = *a.progress;
    out += ",\"progress\":{\"stage\":" + JsonString(p.stage) +
           ",\"fraction\":" + JsonNumber(p.fraction) + ",\"factors\":[";
    for (std::size_t i = 0; i < p.factors.size(); ++i)
      out += (i > 0 ? "," : "") + JsonString(p.factors[i]);
    out += "],\"age_ms\":" + std::to_string(p.age_ms) + "}";
  }
  return out + "}";
}

std::string StatsToJson(const proto::Stats& stats) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : stats) {
    if (!first) out += ",";
    first = false;
    out += JsonString(key) + ":" + JsonNumber(value);
  }
  return out + "}";
}

std::string ErrorToJson(std::string_view input, const proto::Error& error) {
  return "{\"input\":" + JsonString(input) +
         ",\"error\":{\"code\":" + JsonString(proto::ErrorCodeName(error.code)) +
         ",\"message\":" + JsonString(error.message) + "}}";
}

}  // namespace zfactor::client
