#pragma once
// A DecodeSink for tests: keeps copies of every record and reject, in order.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/DecodeSink.hpp"
#include "pipeline/Decoder.hpp"

namespace flowlier::test {

struct CollectedReject {
  pipeline::RejectReason reason;
  std::uint64_t line = 0;
  std::string raw;
  std::string message;
};

class CollectingSink final : public pipeline::DecodeSink {
 public:
  void on_record(const pipeline::FlowRecord& record) override { records.push_back(record); }
  void on_reject(const pipeline::Reject& reject) override {
    rejects.push_back(
        CollectedReject{reject.reason, reject.line, std::string(reject.raw), std::string(reject.message)});
  }

  std::size_t count(pipeline::RejectReason reason) const {
    std::size_t n = 0;
    for (const auto& r : rejects) n += r.reason == reason ? 1 : 0;
    return n;
  }

  std::vector<pipeline::FlowRecord> records;
  std::vector<CollectedReject> rejects;
};

// Feeds `input` as one chunk starting at line 1, then finishes.
inline void decode_all(pipeline::Decoder& decoder, std::string_view input, CollectingSink& sink) {
  decoder.feed(input, 1, sink);
  decoder.finish(sink);
}

// The whole file as bytes; empty when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace flowlier::test
