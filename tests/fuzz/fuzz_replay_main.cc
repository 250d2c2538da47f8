// Replay driver for fuzz targets built without libFuzzer (gcc): runs every file of the seed
// corpus directories given on the command line through LLVMFuzzerTestOneInput, then a fixed-seed
// set of mutations of each (byte flips, truncations, splices), so the unit suite exercises the
// parser's error paths on every build. Exit status 0 when every input returned; a property
// violation aborts inside the target.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void run(const std::vector<uint8_t>& input) { LLVMFuzzerTestOneInput(input.data(), input.size()); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::vector<uint8_t>> seeds;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(argv[i], ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (ec) {
      std::fprintf(stderr, "cannot read corpus %s: %s\n", argv[i], ec.message().c_str());
      return 2;
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seed inputs found; pass the corpus directory\n");
    return 2;
  }
  std::mt19937 rng(12345);
  std::size_t runs = 0;
  for (const auto& seed : seeds) {
    run(seed);
    ++runs;
    for (int m = 0; m < 2000; ++m) {
      std::vector<uint8_t> v = seed;
      const int kind = static_cast<int>(rng() % 4);
      if (kind == 0 && !v.empty()) {
        v[rng() % v.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      } else if (kind == 1 && !v.empty()) {
        v[rng() % v.size()] = static_cast<uint8_t>(rng());
      } else if (kind == 2) {
        v.resize(v.empty() ? 0 : rng() % v.size());
      } else {
        const auto& other = seeds[rng() % seeds.size()];
        if (!other.empty()) {
          const std::size_t from = rng() % other.size();
          v.insert(v.begin() + (v.empty() ? 0 : rng() % v.size()), other.begin() + from,
                   other.end());
        }
      }
      run(v);
      ++runs;
    }
  }
  std::printf("replayed %zu seeds, %zu inputs in total\n", seeds.size(), runs);
  return 0;
}
