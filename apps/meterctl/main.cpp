// meterctl: the meter shop's client for the optical port. Usage: meterctl --help, README.md.
#include <iostream>
#include <string>
#include <vector>

#include "cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return meter::apps::meterctl::meterctl_main(std::move(args), meter::apps::meterctl::connect,
                                              std::cout, std::cerr);
}
