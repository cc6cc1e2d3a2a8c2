// The `zfactor` command line, as a function so tests can run it in-process.
#ifndef ZFACTOR_CLIENT_CLI_CLI_H_
#define ZFACTOR_CLIENT_CLI_CLI_H_

#include <iosfwd>

namespace zfactor::client {

// Runs `zfactor` with argv (argv[0] is the program name). Reads numbers from
// `in` when a factor/isprime command has none. Returns the exit status:
// 0 success; 1 an answer was incomplete (composite cofactor, job not finished
// in time, failed job) or a number/request was rejected; 2 usage error.
int RunCli(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace zfactor::client

#endif  // ZFACTOR_CLIENT_CLI_CLI_H_
