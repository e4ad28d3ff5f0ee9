#pragma once
// Shared body of the decoder fuzz targets: build a decoder, feed the input as 1-3
// chunks split at line boundaries (the Decoder contract), finish, and read every
// field of every record and reject so the sanitizers see any bad value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipeline/DecodeSink.hpp"
#include "pipeline/InputFormat.hpp"

namespace flowlier::fuzz {

class TouchingSink final : public pipeline::DecodeSink {
 public:
  void on_record(const pipeline::FlowRecord& r) override {
    using pipeline::to_string;
    acc_ += r.present + static_cast<unsigned>(r.format) + r.version + static_cast<unsigned>(r.status) +
            static_cast<unsigned>(r.action) + static_cast<unsigned>(r.direction) +
            static_cast<unsigned>(r.reporter) + static_cast<unsigned>(r.flow_state) +
            static_cast<unsigned>(r.traffic_type) + r.protocol + r.traffic_path + r.tcp_flags + r.srcport +
            r.dstport + static_cast<std::uint64_t>(r.start_ns) + static_cast<std::uint64_t>(r.end_ns) +
            r.packets + r.bytes + r.packets_reverse + r.bytes_reverse + r.rtt_ms + r.source_index +
            r.source_line + static_cast<std::uint64_t>(r.sampling_rate * 7);
    // Enum names index tables: an out-of-range enum would show up here.
    acc_ += std::string_view(to_string(r.format)).size() + std::string_view(to_string(r.status)).size() +
            std::string_view(to_string(r.action)).size() + std::string_view(to_string(r.direction)).size() +
            std::string_view(to_string(r.reporter)).size() + std::string_view(to_string(r.flow_state)).size() +
            std::string_view(to_string(r.traffic_type)).size();
    char text[64];
    for (const auto* a : {&r.srcaddr, &r.dstaddr, &r.pkt_srcaddr, &r.pkt_dstaddr}) {
      acc_ += a->write(text) + a->is_v4() + a->is_private();
    }
    for (const auto* s : {&r.account_id, &r.interface_id, &r.instance_id, &r.vpc_id, &r.subnet_id, &r.region,
                          &r.az_id, &r.pkt_src_aws_service, &r.pkt_dst_aws_service, &r.rule}) {
      acc_ += touch(s->view());
    }
    acc_ += touch(r.extra);
  }
  void on_reject(const pipeline::Reject& reject) override {
    acc_ += static_cast<unsigned>(reject.reason) + reject.line + pipeline::to_string(reject.reason).size() +
            touch(reject.raw) + touch(reject.message);
  }
  std::uint64_t value() const { return acc_; }

 private:
  static std::uint64_t touch(std::string_view s) {
    std::uint64_t h = s.size();
    for (char c : s) h = h * 31 + static_cast<unsigned char>(c);
    return h;
  }
  std::uint64_t acc_ = 0;
};

// Mostly the defaults. A last byte with the top bit set picks small size limits (so
// line_too_long and the document limit are reached with small inputs); 0x40 without
// it picks a configured AWS format (for lines without a header).
inline pipeline::DecoderOptions options_for(unsigned choice) {
  pipeline::DecoderOptions options;
  if (choice & 0x80) {
    options.max_line_bytes = std::size_t{16} << ((choice >> 4) & 7);
    options.max_document_bytes = options.max_line_bytes * 4;
  } else if (choice & 0x40) {
    options.aws_fields = (choice & 0x20)
        ? "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
          "${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} "
          "${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} "
          "${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}"
        : "interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport protocol bytes packets start end "
          "action log-status reject-reason ecs-task-id resource-id encryption-status";
  }
  return options;
}

// The last byte also picks the chunking (1-3 chunks and the split points), so seeds
// are plain input files and the fuzzer still explores split points; a split point is
// moved forward to just after the next '\n'.
inline int fuzz_decoder(pipeline::InputFormat format, const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned choice = data[size - 1];
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoder = pipeline::make_decoder(format, options_for(choice));
  if (!decoder) __builtin_trap();
  TouchingSink sink;
  const std::size_t chunks = 1 + choice % 3;
  std::size_t begin = 0;
  std::uint64_t line = 1;
  for (std::size_t k = 1; k <= chunks && begin < input.size(); ++k) {
    std::size_t end = input.size();
    if (k < chunks) {
      // Aim at a proportional split point, then move to just after the next '\n'.
      std::size_t aim = begin + (input.size() - begin) * ((choice >> 2) % 16 + 1) / 17;
      auto nl = input.find('\n', aim);
      end = nl == std::string_view::npos ? input.size() : nl + 1;
    }
    auto chunk = input.substr(begin, end - begin);
    decoder->feed(chunk, line, sink);
    line += static_cast<std::uint64_t>(std::count(chunk.begin(), chunk.end(), '\n'));
    begin = end;
  }
  decoder->finish(sink);
  volatile std::uint64_t keep = sink.value();
  (void)keep;
  return 0;
}

}  // namespace flowlier::fuzz
