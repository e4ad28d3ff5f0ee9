#pragma once
// CloudWatch Logs subscription payloads carrying VPC flow log lines:
//   {"messageType":"DATA_MESSAGE","owner":"...","logGroup":"...","logStream":"eni-...",
//    "subscriptionFilters":[...],"logEvents":[{"id":"...","timestamp":1,"message":"2 ..."}]}
// The input may be gzip'd (as Lambda, Kinesis and Firehose receive it) and may hold
// several payload objects (one per line, or concatenated). CONTROL_MESSAGE payloads
// are skipped. Each log event message is one flow log line, parsed by AwsTextDecoder
// with DecoderOptions::aws_fields (or the default v2 format): CloudWatch carries no header.
//
// source_line of a record is the 1-based ordinal of its log event in the input.
// Document-level rejects (invalid JSON, bad gzip, too large) carry the line where the
// failing document starts. Buffers the whole input until finish(), up to
// DecoderOptions::max_document_bytes. Not thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/Decoder.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/formats/AwsTextDecoder.hpp"

namespace simdjson::dom {
class parser;
}

namespace flowlier::pipeline::formats {

class CloudWatchDecoder final : public Decoder {
 public:
  explicit CloudWatchDecoder(const DecoderOptions& options);
  ~CloudWatchDecoder() override;
  CloudWatchDecoder(const CloudWatchDecoder&) = delete;
  CloudWatchDecoder& operator=(const CloudWatchDecoder&) = delete;

  Format format() const override { return Format::aws_vpc; }
  void feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) override;
  void finish(DecodeSink& sink) override;

  // Decodes one complete input held in memory: gzip'd or plain, one or more payload
  // objects. Events are numbered on from the previous call, unless `fixed_line` is
  // non-zero: then every record and reject carries it (Firehose uses the record index).
  void decode_document(std::string_view bytes, std::uint64_t fixed_line, DecodeSink& sink);

  // The flow line parser, shared with the Firehose decoder for plain-text records.
  AwsTextDecoder& text() { return text_; }

 private:
  void decode_json(std::string& padded, std::size_t length, std::uint64_t fixed_line, DecodeSink& sink);
  void reject(RejectReason reason, std::string_view raw, std::uint64_t line, std::string message, DecodeSink& sink);

  std::size_t max_document_bytes_;
  AwsTextDecoder text_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::string buffer_;         // input collected by feed()
  std::size_t fed_bytes_ = 0;  // including what was not kept once over the limit
  std::string inflated_;       // gunzip output / padded copy for simdjson
  std::uint64_t events_ = 0;   // log events seen so far (the ordinal of the last one)
  std::string message_;
};

}  // namespace flowlier::pipeline::formats
