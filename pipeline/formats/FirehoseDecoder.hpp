#pragma once
// Kinesis Data Firehose HTTP endpoint delivery requests carrying VPC flow logs:
//   {"requestId":"...","timestamp":1578090901599,"records":[{"data":"<base64>"}, ...]}
// Each record's data, once base64-decoded (and gunzipped when it is gzip), is either
// a CloudWatch Logs subscription payload (flow logs sent to CloudWatch Logs and then
// through a subscription filter to Firehose) or plain flow log text lines (flow logs
// delivered to Firehose directly). A record that does not decode is rejected
// (bad_encoding) and decoding goes on with the next one.
//
// source_line of records and rejects is the 1-based index of the Firehose record in
// the input (counted across requests when the input holds several, one per line).
// Document-level rejects carry the line where the failing request starts. Buffers the
// whole input until finish(), up to DecoderOptions::max_document_bytes. Not thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pipeline/Decoder.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/formats/CloudWatchDecoder.hpp"

namespace simdjson::dom {
class parser;
}

namespace flowlier::pipeline::formats {

class FirehoseDecoder final : public Decoder {
 public:
  explicit FirehoseDecoder(const DecoderOptions& options);
  ~FirehoseDecoder() override;
  FirehoseDecoder(const FirehoseDecoder&) = delete;
  FirehoseDecoder& operator=(const FirehoseDecoder&) = delete;

  Format format() const override { return Format::aws_vpc; }
  void feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) override;
  void finish(DecodeSink& sink) override;

 private:
  void decode_record(std::string_view data, std::uint64_t index, DecodeSink& sink);
  void reject(RejectReason reason, std::string_view raw, std::uint64_t line, std::string message, DecodeSink& sink);

  std::size_t max_document_bytes_;
  CloudWatchDecoder cloudwatch_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::string buffer_;
  std::size_t fed_bytes_ = 0;
  std::string decoded_;   // base64 output of the current record
  std::string inflated_;  // its gunzipped form
  std::uint64_t records_ = 0;
  std::string message_;
};

}  // namespace flowlier::pipeline::formats
