// privlink: the command-line client. Owned by src/cli.
#include <cstdio>
int main(int argc, char** argv) {
  std::fprintf(stderr, "privlink: not built yet\n");
  return 1;
}
