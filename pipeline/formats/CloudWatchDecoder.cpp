#include "pipeline/formats/CloudWatchDecoder.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "pipeline/Gzip.hpp"

namespace flowlier::pipeline::formats {

namespace {

// The 1-based line of `offset` in `text`.
std::uint64_t line_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 +
         static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

std::string_view strip_line_end(std::string_view message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
  return message;
}

// simdjson's batch must hold the largest document; the whole input is the safe bound.
constexpr std::size_t kMinBatch = 1 << 16;

}  // namespace

CloudWatchDecoder::CloudWatchDecoder(const DecoderOptions& options)
    : max_document_bytes_(options.max_document_bytes),
      text_(options),
      parser_(std::make_unique<simdjson::dom::parser>()) {}

CloudWatchDecoder::~CloudWatchDecoder() = default;

void CloudWatchDecoder::feed(std::string_view lines, std::uint64_t, DecodeSink&) {
  fed_bytes_ += lines.size();
  if (fed_bytes_ <= max_document_bytes_) buffer_.append(lines);
}

void CloudWatchDecoder::finish(DecodeSink& sink) {
  text_.set_source_index(source_index_);
  if (fed_bytes_ > max_document_bytes_) {
    reject(RejectReason::line_too_long, std::string_view(buffer_).substr(0, AwsTextDecoder::kMaxRawBytes), 1,
           fmt::format("input is {} bytes, over the document limit of {}", fed_bytes_, max_document_bytes_), sink);
  } else if (looks_gzipped(buffer_)) {
    decode_document(buffer_, 0, sink);
  } else {
    // Parse in place: simdjson only needs padding after the text.
    const std::size_t length = buffer_.size();
    buffer_.append(simdjson::SIMDJSON_PADDING, '\0');
    decode_json(buffer_, length, 0, sink);
  }
  buffer_.clear();
  buffer_.shrink_to_fit();
  fed_bytes_ = 0;
}

void CloudWatchDecoder::decode_document(std::string_view bytes, std::uint64_t fixed_line, DecodeSink& sink) {
  text_.set_source_index(source_index_);
  inflated_.clear();
  if (looks_gzipped(bytes)) {
    std::string error = gunzip(bytes, inflated_, max_document_bytes_);
    if (!error.empty()) {
      reject(RejectReason::bad_encoding, {}, fixed_line != 0 ? fixed_line : 1, "CloudWatch payload: " + error, sink);
      return;
    }
  } else {
    inflated_.assign(bytes);
  }
  const std::size_t length = inflated_.size();
  inflated_.append(simdjson::SIMDJSON_PADDING, '\0');
  decode_json(inflated_, length, fixed_line, sink);
}

void CloudWatchDecoder::reject(RejectReason reason, std::string_view raw, std::uint64_t line, std::string message,
                               DecodeSink& sink) {
  message_ = std::move(message);
  sink.on_reject(Reject{reason, line, raw.substr(0, AwsTextDecoder::kMaxRawBytes), message_});
}

void CloudWatchDecoder::decode_json(std::string& padded, std::size_t length, std::uint64_t fixed_line,
                                    DecodeSink& sink) {
  const std::string_view text(padded.data(), length);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return;

  simdjson::dom::document_stream stream;
  if (auto error = parser_->parse_many(padded.data(), length, std::max(length, kMinBatch)).get(stream)) {
    reject(RejectReason::invalid_json, text, fixed_line != 0 ? fixed_line : 1,
           fmt::format("invalid JSON: {}", simdjson::error_message(error)), sink);
    return;
  }
  for (auto it = stream.begin(); it != stream.end(); ++it) {
    const std::size_t offset = it.current_index();
    const std::string_view raw = text.substr(std::min(offset, text.size()));
    const std::uint64_t doc_line = fixed_line != 0 ? fixed_line : line_at(text, offset);
    simdjson::dom::element doc;
    if (auto error = (*it).get(doc)) {
      reject(RejectReason::invalid_json, raw, doc_line, fmt::format("invalid JSON: {}", simdjson::error_message(error)),
             sink);
      return;  // simdjson stops at the first error
    }
    simdjson::dom::object payload;
    if (doc.get_object().get(payload)) {
      reject(RejectReason::invalid_json, raw, doc_line, "a CloudWatch Logs payload must be a JSON object", sink);
      continue;
    }
    std::string_view message_type;
    auto type_field = payload["messageType"];
    if (!type_field.error()) {
      if (type_field.get_string().get(message_type)) {
        reject(RejectReason::invalid_json, raw, doc_line, "CloudWatch Logs payload: messageType is not a string", sink);
        continue;
      }
      if (message_type == "CONTROL_MESSAGE") continue;  // subscription health check, no flow data
    }
    simdjson::dom::array events;
    if (payload["logEvents"].get_array().get(events)) {
      reject(RejectReason::invalid_json, raw, doc_line, "CloudWatch Logs payload has no logEvents array", sink);
      continue;
    }
    for (simdjson::dom::element event : events) {
      ++events_;
      const std::uint64_t line = fixed_line != 0 ? fixed_line : events_;
      std::string_view message;
      if (event["message"].get_string().get(message)) {
        reject(RejectReason::invalid_json, raw, line,
               fmt::format("CloudWatch Logs log event {} has no message string", events_), sink);
        continue;
      }
      text_.decode_line(strip_line_end(message), line, sink);
    }
  }
  if (const std::size_t truncated = stream.truncated_bytes(); truncated > 0) {
    const std::size_t offset = length - std::min(truncated, length);
    reject(RejectReason::invalid_json, text.substr(offset), fixed_line != 0 ? fixed_line : line_at(text, offset),
           fmt::format("invalid JSON: the last {} bytes are an incomplete document", truncated), sink);
  }
}

}  // namespace flowlier::pipeline::formats

namespace flowlier::pipeline {

std::unique_ptr<Decoder> make_aws_cloudwatch_decoder(const DecoderOptions& options) {
  return std::make_unique<formats::CloudWatchDecoder>(options);
}

}  // namespace flowlier::pipeline
