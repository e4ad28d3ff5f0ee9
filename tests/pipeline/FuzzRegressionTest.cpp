// Inputs that made a fuzz target (fuzz/, FUZZING.md) fail, kept so the fix stays fixed.
// The inputs live in tests/data/fuzz-regressions/.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/StateIo.hpp"
#include "pipeline/DecodeSink.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/InputFormat.hpp"
#include "tests/support/CollectingSink.hpp"

using namespace flowlier::pipeline;

namespace {

std::string read_regression(const std::string& name) {
  const auto path = std::filesystem::path(FLOWLIER_TEST_DATA) / "fuzz-regressions" / name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

class EngineFeeder final : public DecodeSink {
 public:
  explicit EngineFeeder(Engine& engine) : engine_(engine) {}
  void on_record(const FlowRecord& record) override { engine_.process(record); }
  void on_reject(const Reject&) override { ++rejects; }
  int rejects = 0;

 private:
  Engine& engine_;
};

class RejectCollector final : public DecodeSink {
 public:
  void on_record(const FlowRecord&) override { ++records; }
  void on_reject(const Reject& reject) override {
    reasons.push_back(reject.reason);
    raws.emplace_back(reject.raw);
  }
  int records = 0;
  std::vector<RejectReason> reasons;
  std::vector<std::string> raws;
};

// An engine that has seen a few flows (so its saved state holds entity slots).
void feed_flows(Engine& engine) {
  const std::string lines =
      "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 "
      "ACCEPT OK\n"
      "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 "
      "REJECT OK\n"
      "2 123456789010 eni-0000000000000000a 10.0.0.5 10.0.0.6 443 50000 6 3 180 1418530200 1418530260 ACCEPT OK\n";
  auto decoder = make_decoder(InputFormat::aws_text, DecoderOptions{});
  EngineFeeder feeder(engine);
  decoder->feed(lines, 1, feeder);
  decoder->finish(feeder);
  REQUIRE(feeder.rejects == 0);
}

}  // namespace

// fuzz_state_restore: a framed state (valid checksum) whose entity table claims
// 2^32-2 slots made Windower::load allocate ~1.2 TB before reading any slot.
TEST_CASE("Restoring a state whose entity table count exceeds its bytes fails without allocating", "[fuzz]") {
  // Found at engine state version 1; re-framed at the current version (the payload's
  // windower part, which this is about, has not changed; the counters before it grew).
  std::string state;
  {
    std::istringstream original(read_regression("state-huge-slot-count.state"));
    flowlier::detectors::RawRecord raw;
    REQUIRE(flowlier::detectors::read_record(original, raw) == "");
    // The engine counters before the windower grew since (self_corrections): pad
    // them, so the windower part is read where it stands.
    constexpr std::size_t kStatsEnd = 3 * 8 + 11 * 8;  // three times, then the v1-v3 counters
    std::string payload = raw.payload;
    payload.insert(kStatsEnd, sizeof(EngineStats) - 11 * 8, '\0');
    std::ostringstream reframed;
    flowlier::detectors::save_record(reframed, raw.tag, Engine::kStateVersion, payload);
    state = reframed.str();
  }
  Engine engine({});
  feed_flows(engine);
  const std::size_t entities = engine.entity_count();
  REQUIRE(entities > 0);

  std::istringstream in(state);
  const std::string error = engine.restore(in);
  CHECK(error == "engine state (windows): entity table state is truncated");
  // Left unchanged and usable.
  CHECK(engine.entity_count() == entities);
  std::ostringstream out;
  engine.save(out);
  CHECK_FALSE(out.str().empty());
}

TEST_CASE("The slot count bound still accepts real saved states", "[fuzz]") {
  Engine original({});
  feed_flows(original);
  REQUIRE(original.entity_count() > 0);
  std::ostringstream saved;
  original.save(saved);

  Engine restored({});
  std::istringstream in(saved.str());
  REQUIRE(restored.restore(in).empty());
  CHECK(restored.entity_count() == original.entity_count());
  std::ostringstream again;
  restored.save(again);
  CHECK(again.str() == saved.str());
}

// fuzz_aws_firehose: FirehoseDecoder::finish took its view of the buffered input before
// appending simdjson's padding, which reallocates, so every reject quoted freed memory
// (heap-use-after-free under ASan; garbage in the reject log otherwise).
TEST_CASE("Firehose rejects quote the input they reject, not freed memory", "[fuzz]") {
  const std::string input = read_regression("firehose-invalid-json.json");
  REQUIRE(input == "{\"rdsjMT]}\nS0x}\n");
  // As one chunk, and as two chunks split after the first line (the Decoder contract).
  for (const std::size_t split : {input.size(), input.find('\n') + 1}) {
    auto decoder = make_decoder(InputFormat::aws_firehose, DecoderOptions{});
    RejectCollector sink;
    decoder->feed(std::string_view(input).substr(0, split), 1, sink);
    if (split < input.size()) decoder->feed(std::string_view(input).substr(split), 2, sink);
    decoder->finish(sink);
    CHECK(sink.records == 0);
    REQUIRE(sink.reasons.size() == 1);
    CHECK(sink.reasons[0] == RejectReason::invalid_json);
    CHECK(sink.raws[0] == input);
  }
}

TEST_CASE("Guessing a headerless AWS format never loops on odd field separators", "[fuzz]") {
  // Found by fuzz_aws_text and fuzz_aws_firehose: the tokenizer and the field counter
  // disagreed on a line, and each retry switched formats again until the stack ran out.
  for (const auto& [name, format] : {std::pair{"aws-text-guess-loop.log", InputFormat::aws_text},
                                     std::pair{"firehose-guess-loop.json", InputFormat::aws_firehose}}) {
    INFO(name);
    const std::string input = read_regression(name);
    REQUIRE_FALSE(input.empty());
    auto decoder = make_decoder(format, DecoderOptions{});
    flowlier::test::CollectingSink sink;
    flowlier::test::decode_all(*decoder, input, sink);
    CHECK(sink.records.size() + sink.rejects.size() >= 1);
  }
}
