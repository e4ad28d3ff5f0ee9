// Decoder throughput: parse only, records counted by a sink that keeps nothing.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "pipeline/Gzip.hpp"
#include "pipeline/InputFormat.hpp"

using namespace flowlier::pipeline;

namespace {

class CountingSink final : public DecodeSink {
 public:
  void on_record(const FlowRecord& record) override {
    ++records;
    bytes += record.bytes;
  }
  void on_reject(const Reject&) override { ++rejects; }
  std::uint64_t records = 0;
  std::uint64_t rejects = 0;
  std::uint64_t bytes = 0;
};

// Deterministic default-format (v2) lines: a header, then varied addresses, ports,
// counters, times, actions and a NODATA record every 50 lines.
std::string make_v2_lines(std::size_t count) {
  std::string out =
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
      "log-status\n";
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t r = next();
    const std::uint64_t start = 1754322000 + (r % 3600);
    if (i % 50 == 49) {
      fmt::format_to(std::back_inserter(out), "2 123456789012 eni-0d6bdc1a4942cb767 - - - - - - - {} {} - NODATA\n",
                     start, start + 60);
      continue;
    }
    fmt::format_to(std::back_inserter(out),
                   "2 123456789012 eni-0d6bdc1a4942cb7{:02} 10.{}.{}.{} {}.{}.{}.{} {} {} {} {} {} {} {} {} OK\n",
                   r % 64, (r >> 8) & 255, (r >> 16) & 255, (r >> 24) & 255, 3 + ((r >> 32) & 200), (r >> 40) & 255,
                   (r >> 48) & 255, (r >> 56) & 255, 1024 + (r % 60000), (r & 1) != 0 ? 443 : 53, (r & 2) != 0 ? 6 : 17,
                   1 + (r >> 20) % 1000, 40 + (r >> 30) % 1500000, start, start + 30 + (r >> 5) % 30,
                   (r & 4) != 0 ? "ACCEPT" : "REJECT");
  }
  return out;
}

std::string make_cloudwatch_payload(std::size_t events) {
  std::string out =
      R"({"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"vpc-flow-logs","logStream":"eni-0d6bdc1a4942cb767-all","subscriptionFilters":["flowlier"],"logEvents":[)";
  const std::string lines = make_v2_lines(events);
  std::string_view rest(lines);
  rest.remove_prefix(rest.find('\n') + 1);  // no header in CloudWatch
  std::size_t i = 0;
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    if (i > 0) out.push_back(',');
    fmt::format_to(std::back_inserter(out), R"({{"id":"3658{:020}","timestamp":1754322617000,"message":"{}"}})", i,
                   rest.substr(0, newline));
    rest.remove_prefix(newline + 1);
    ++i;
  }
  out += "]}";
  return out;
}

void BM_AwsTextDecoder(benchmark::State& state) {
  const std::string input = make_v2_lines(static_cast<std::size_t>(state.range(0)));
  CountingSink sink;
  for (auto _ : state) {
    auto decoder = make_aws_text_decoder(DecoderOptions{});
    decoder->feed(input, 1, sink);
    decoder->finish(sink);
  }
  if (sink.rejects != 0) state.SkipWithError("unexpected rejects");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_AwsTextDecoder)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_CloudWatchDecoder(benchmark::State& state) {
  const bool gzipped = state.range(1) != 0;
  const std::string plain = make_cloudwatch_payload(static_cast<std::size_t>(state.range(0)));
  const std::string input = gzipped ? gzip(plain) : plain;
  CountingSink sink;
  for (auto _ : state) {
    auto decoder = make_aws_cloudwatch_decoder(DecoderOptions{});
    decoder->feed(input, 1, sink);
    decoder->finish(sink);
  }
  if (sink.rejects != 0) state.SkipWithError("unexpected rejects");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * plain.size()));
}
BENCHMARK(BM_CloudWatchDecoder)->Args({10'000, 0})->Args({10'000, 1})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
