#pragma once
// AWS VPC Flow Logs as text: the lines of an S3 log file (header line first) or lines
// in the default v2 / configured format (CloudWatch Logs export, syslog relays...).
//
// A line whose first token is an AWS field name is a header: it sets the field order
// for the lines after it (headers may repeat mid-file, e.g. concatenated S3 objects).
// Lines before any header use DecoderOptions::aws_fields, or the default v2 format.
// Fields are separated by runs of spaces or tabs; a trailing '\r' is ignored; blank
// lines are skipped. "-" is absent. Only present fields are validated, so a custom
// format without addresses or times is legal; NODATA/SKIPDATA records come out with
// their status set and no traffic fields.
//
// Cost: no allocation per line (one reused FlowRecord and token buffer), except for
// fields kept in FlowRecord::extra. Not thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/Decoder.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/formats/AwsFields.hpp"

namespace flowlier::pipeline::formats {

class AwsTextDecoder final : public Decoder {
 public:
  // Rejects keep at most this many bytes of the offending line as `raw`.
  static constexpr std::size_t kMaxRawBytes = 200;

  explicit AwsTextDecoder(const DecoderOptions& options);

  Format format() const override { return Format::aws_vpc; }
  void feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) override;
  void finish(DecodeSink& sink) override;

  // Decodes one line (without its '\n'): a header, a record, a reject or nothing.
  // Used directly by the CloudWatch and Firehose decoders for log event messages.
  void decode_line(std::string_view line, std::uint64_t line_number, DecodeSink& sink);

  // The field order lines are currently read with.
  const AwsFormat& current_format() const { return current_; }
  // Non-empty when DecoderOptions::aws_fields did not parse; headerless lines are then
  // rejected (header_mismatch) with this message until a header line appears.
  const std::string& configuration_error() const { return configuration_error_; }

 private:
  // As decode_line, with bytes up to readable_end (>= the line's end) safe to load.
  void decode_line(std::string_view line, const char* readable_end, std::uint64_t line_number, DecodeSink& sink);
  void set_format(AwsFormat format);
  bool try_header(std::string_view line, std::uint64_t line_number, DecodeSink& sink);
  void reject(RejectReason reason, std::string_view line, std::uint64_t line_number, DecodeSink& sink);

  std::size_t max_line_bytes_;
  AwsFormat current_;
  bool format_usable_ = true;
  // No header and no configured format yet: a line whose field count is that of
  // "every field up to version N" (14, 21, 25, 29, 39, 40) is read in that order, as
  // AWS documents the versions and Elastic's pipeline guesses them.
  bool guessing_ = false;
  std::string configuration_error_;
  std::vector<std::string_view> tokens_;  // sized to the format's columns + 1
  FlowRecord record_;
  std::string message_;
};

}  // namespace flowlier::pipeline::formats
