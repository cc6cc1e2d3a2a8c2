// How the `zfactor` CLI prints answers: GNU coreutils `factor` lines for
// people, one JSON object per answer for programs.
//
// Factor lines:   "N: p1 p2 p2 ..." (ascending, each prime repeated by its
// multiplicity; "0:" and "1:" have nothing after the colon). A probable prime
// factor is printed as "[PRP]p", an unsplit composite cofactor as "[C]m"
// (a "C" result, composite with no factor known, prints "N: [C]N").
// An answer that is not final prints "N: <state> job J"; a failed one
// "N: <failed: code: message>".
// Primality lines: "N: prime", "N: probable prime", "N: composite",
// "1: unit (not prime)", "0: zero (not prime)".
#ifndef ZFACTOR_CLIENT_FORMAT_H_
#define ZFACTOR_CLIENT_FORMAT_H_

#include <string>
#include <string_view>

#include "proto/messages.h"

namespace zfactor::client {

std::string FormatFactorLine(const proto::Answer& answer);
std::string FormatIsPrimeLine(const proto::Answer& answer);
// FormatFactorLine or FormatIsPrimeLine by answer.kind.
std::string FormatAnswerLine(const proto::Answer& answer);

// Extra detail for --verbose: "N: status=FF source=job job=J effort=... ms=..."
std::string FormatAnswerDetail(const proto::Answer& answer, bool local);

// True when the answer is final and needs no flag: done, and for factor the
// status is FF/P/PRP/U/Zero (no composite cofactor left), for isprime any
// status. A PRP factor is complete (marked, not an error).
bool IsComplete(const proto::Answer& answer);

// The ANSWER as one JSON object, with the wire's keys and values
// (PROTOCOL.md 2.2). `local` reports "source":"local" (computed in-process).
std::string AnswerToJson(const proto::Answer& answer, bool local = false);
std::string StatsToJson(const proto::Stats& stats);
std::string ErrorToJson(std::string_view input, const proto::Error& error);
// A JSON string literal, quotes included.
std::string JsonString(std::string_view s);

}  // namespace zfactor::client

#endif  // ZFACTOR_CLIENT_FORMAT_H_
