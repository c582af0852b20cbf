// The seed corpus on disk: a generator writes its seeds as files, or (--check) names every
// committed file that is missing or differs from what it would write, so the corpus in the
// repository is always the generator's. Shared by the optical port's corpus generators.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace meter::c1218::fuzz {

/// `seeds`: a range of objects with name() (a file name) and bytes() (std::vector<uint8_t>).
/// Usage: PROGRAM [--check] DIR. Returns the process's exit status.
template <class Seeds>
int write_or_check_corpus(int argc, char** argv, const char* program, const Seeds& seeds) {
  namespace fs = std::filesystem;
  const bool check = argc == 3 && std::strcmp(argv[1], "--check") == 0;
  if (argc != 2 && !check) {
    std::fprintf(stderr, "usage: %s [--check] <dir>\n", program);
    return 2;
  }
  const fs::path dir = argv[argc - 1];
  int stale = 0;
  for (const auto& seed : seeds) {
    const fs::path path = dir / seed.name();
    const std::vector<std::uint8_t>& bytes = seed.bytes();
    if (check) {
      std::ifstream in(path, std::ios::binary);
      const std::vector<std::uint8_t> stored{std::istreambuf_iterator<char>(in),
                                             std::istreambuf_iterator<char>()};
      if (!in.is_open() || stored != bytes) {
        std::fprintf(stderr, "corpus: %s is missing or differs from the generator\n",
                     path.c_str());
        ++stale;
      }
      continue;
    }
    fs::create_directories(dir);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  return stale == 0 ? 0 : 1;
}

}  // namespace meter::c1218::fuzz
