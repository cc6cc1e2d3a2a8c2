// zfactor: the command-line client. See client/cli/cli.h and `zfactor --help`.
#include <iostream>

#include "client/cli/cli.h"

int main(int argc, char** argv) {
  return zfactor::client::RunCli(argc, argv, std::cin, std::cout, std::cerr);
}
