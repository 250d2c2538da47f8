// privlinkd: the privlink daemon (API, controller, agent roles). Owned by src/api (daemon.h).
#include <cstdio>
int main(int argc, char** argv) {
  std::fprintf(stderr, "privlinkd: not built yet\n");
  return 1;
}
