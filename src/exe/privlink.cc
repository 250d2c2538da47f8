// privlink: the command-line client for privlinkd (src/cli).
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_context.h"

int main(int argc, char** argv) {
  privlink::cli::CliContext ctx(std::cout, std::cerr, privlink::cli::httpsTransportFactory(),
                                privlink::client::defaultConfigDir());
  std::vector<std::string> args(argv + 1, argv + argc);
  return privlink::cli::runCli(args, ctx);
}
