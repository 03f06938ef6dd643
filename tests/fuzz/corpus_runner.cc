// Runs a libFuzzer entry point over every file of the folders given (or files), for ctest in
// builds without libFuzzer. Exits 0 when every input ran (the target aborts on a failure).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i], ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), {});
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++runs;
    }
    if (ec) {
      std::fprintf(stderr, "corpus_runner: %s: %s\n", argv[i], ec.message().c_str());
      return 1;
    }
  }
  std::printf("corpus_runner: %zu inputs\n", runs);
  return runs > 0 ? 0 : 1;
}
