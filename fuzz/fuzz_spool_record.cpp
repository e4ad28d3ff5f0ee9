// libFuzzer target: what a sink reads back from its disk spool after a restart.
// Every input is decoded as one spool record (DeliveryService::decode_record); a
// decoded record encodes and decodes to the same event. Inputs starting with 'S' are
// also written as a spool segment (the rest of the bytes) beside a `committed` file
// and recovered by DiskSpool::open, whose records are then peeked and decoded.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "transport/DeliveryService.hpp"
#include "transport/DiskSpool.hpp"

namespace {
using namespace flowlier::transport;

void check_record(const std::string& record) {
  SinkEvent event;
  if (!DeliveryService::decode_record(record, event)) return;
  SinkEvent again;
  if (!DeliveryService::decode_record(DeliveryService::encode_record(event), again)) std::abort();
  if (again.meta.id != event.meta.id || again.meta.summary != event.meta.summary) std::abort();
}

// One scratch directory per process, removed at exit (fork mode starts many processes).
struct ScratchDir {
  std::string path;
  ScratchDir() {
    const auto d = std::filesystem::temp_directory_path() / ("fuzz-spool-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    path = d.string();
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

const std::string& spool_dir() {
  static const ScratchDir dir;
  return dir.path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  check_record(input);
  if (input.empty() || input[0] != 'S') return 0;
  const std::string dir = spool_dir() + "/s";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // The committed position comes from the input's second byte (segment 0, offset n).
  const std::size_t offset = size > 1 ? data[1] : 0;
  std::ofstream(dir + "/committed") << "0 " << offset << "\n";
  std::ofstream(dir + "/seg-000000000000.log", std::ios::binary) << input.substr(std::min<std::size_t>(2, size));
  std::string error;
  auto spool = DiskSpool::open(dir, 1 << 20, error);
  if (!spool) return 0;
  for (const auto& record : spool->peek(1000, 1 << 20)) check_record(record);
  return 0;
}
