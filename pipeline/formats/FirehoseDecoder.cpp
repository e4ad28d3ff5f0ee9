#include "pipeline/formats/FirehoseDecoder.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "pipeline/Gzip.hpp"
#include "pipeline/formats/Base64.hpp"

namespace flowlier::pipeline::formats {

namespace {

std::uint64_t line_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 +
         static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

constexpr std::size_t kMinBatch = 1 << 16;

}  // namespace

FirehoseDecoder::FirehoseDecoder(const DecoderOptions& options)
    : max_document_bytes_(options.max_document_bytes),
      cloudwatch_(options),
      parser_(std::make_unique<simdjson::dom::parser>()) {}

FirehoseDecoder::~FirehoseDecoder() = default;

void FirehoseDecoder::feed(std::string_view lines, std::uint64_t, DecodeSink&) {
  fed_bytes_ += lines.size();
  if (fed_bytes_ <= max_document_bytes_) buffer_.append(lines);
}

void FirehoseDecoder::reject(RejectReason reason, std::string_view raw, std::uint64_t line, std::string message,
                             DecodeSink& sink) {
  message_ = std::move(message);
  sink.on_reject(Reject{reason, line, raw.substr(0, AwsTextDecoder::kMaxRawBytes), message_});
}

void FirehoseDecoder::finish(DecodeSink& sink) {
  cloudwatch_.set_source_index(source_index_);
  cloudwatch_.text().set_source_index(source_index_);
  const std::size_t length = buffer_.size();
  // Pad before taking any view into buffer_: the append may reallocate (a view taken
  // first dangled in every reject; found by fuzz_aws_firehose). simdjson reads past the text.
  buffer_.append(simdjson::SIMDJSON_PADDING, '\0');
  const std::string_view text(buffer_.data(), length);
  if (fed_bytes_ > max_document_bytes_) {
    reject(RejectReason::line_too_long, text, 1,
           fmt::format("input is {} bytes, over the document limit of {}", fed_bytes_, max_document_bytes_), sink);
  } else if (text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    simdjson::dom::document_stream stream;
    if (auto stream_error = parser_->parse_many(buffer_.data(), length, std::max(length, kMinBatch)).get(stream)) {
      reject(RejectReason::invalid_json, text, 1,
             fmt::format("invalid JSON: {}", simdjson::error_message(stream_error)), sink);
    } else {
      bool stopped = false;
      for (auto it = stream.begin(); it != stream.end(); ++it) {
        const std::size_t offset = it.current_index();
        const std::string_view raw = text.substr(std::min(offset, text.size()));
        const std::uint64_t doc_line = line_at(text, offset);
        simdjson::dom::element doc;
        if (auto error = (*it).get(doc)) {
          reject(RejectReason::invalid_json, raw, doc_line,
                 fmt::format("invalid JSON: {}", simdjson::error_message(error)), sink);
          stopped = true;
          break;  // simdjson stops at the first error
        }
        simdjson::dom::array records;
        if (doc["records"].get_array().get(records)) {
          reject(RejectReason::invalid_json, raw, doc_line, "a Firehose request must be an object with a records array",
                 sink);
          continue;
        }
        for (simdjson::dom::element record : records) {
          ++records_;
          std::string_view data;
          if (record["data"].get_string().get(data)) {
            reject(RejectReason::invalid_json, raw, records_,
                   fmt::format("Firehose record {} has no data string", records_), sink);
            continue;
          }
          decode_record(data, records_, sink);
        }
      }
      // After an error truncated_bytes() is meaningless (it reported 4294967295 bytes),
      // and the error was already rejected: as CloudWatchDecoder, report nothing more.
      if (const std::size_t truncated = stream.truncated_bytes(); !stopped && truncated > 0) {
        const std::size_t offset = length - std::min(truncated, length);
        reject(RejectReason::invalid_json, text.substr(offset), line_at(text, offset),
               fmt::format("invalid JSON: the last {} bytes are an incomplete document", truncated), sink);
      }
    }
  }
  buffer_.clear();
  buffer_.shrink_to_fit();
  fed_bytes_ = 0;
}

void FirehoseDecoder::decode_record(std::string_view data, std::uint64_t index, DecodeSink& sink) {
  if (std::string error = base64_decode(data, decoded_); !error.empty()) {
    reject(RejectReason::bad_encoding, data, index, fmt::format("Firehose record {}: {}", index, error), sink);
    return;
  }
  std::string_view content = decoded_;
  if (looks_gzipped(content)) {
    if (std::string error = gunzip(content, inflated_, max_document_bytes_); !error.empty()) {
      reject(RejectReason::bad_encoding, data, index, fmt::format("Firehose record {}: gzip: {}", index, error), sink);
      return;
    }
    content = inflated_;
  }
  const std::size_t first = content.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return;  // an empty record carries nothing
  if (content[first] == '{') {
    cloudwatch_.decode_document(content, index, sink);
    return;
  }
  // Plain flow log lines, each numbered with the record index.
  AwsTextDecoder& text = cloudwatch_.text();
  while (!content.empty()) {
    const auto newline = content.find('\n');
    text.decode_line(content.substr(0, newline), index, sink);
    if (newline == std::string_view::npos) break;
    content.remove_prefix(newline + 1);
  }
}

}  // namespace flowlier::pipeline::formats

namespace flowlier::pipeline {

std::unique_ptr<Decoder> make_aws_firehose_decoder(const DecoderOptions& options) {
  return std::make_unique<formats::FirehoseDecoder>(options);
}

}  // namespace flowlier::pipeline
