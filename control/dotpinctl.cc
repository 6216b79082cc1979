// SPDX-License-Identifier: Apache-2.0
// dotpinctl: the operator's command-line tool. All logic lives in the command table.
#include <iostream>
#include <string>
#include <vector>

#include "control/command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return dotpin::ctl::run_cli(args, std::cout, std::cerr);
}
