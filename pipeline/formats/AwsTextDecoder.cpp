#include "pipeline/formats/AwsTextDecoder.hpp"

#include <fmt/format.h>

#include <cstring>
#include <iterator>

namespace flowlier::pipeline::formats {

namespace {

inline bool is_space(char ch) { return ch == ' ' || ch == '\t'; }
inline bool is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }

// Field values quoted in messages are cut here: the raw line is in the reject anyway.
constexpr std::size_t kMaxQuotedValue = 64;

std::string_view quoted(std::string_view value) { return value.substr(0, kMaxQuotedValue); }

// A header names AWS fields: its first token is one, or (for formats that start with a
// name flowlier does not know, like Transit Gateway's resource-type) every token is a
// lowercase name without digits and at least two are known fields. Data lines start
// with a number, an address, "-" or an id with digits, so this is cheap to refute.
bool looks_like_header(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  if (i == line.size() || !is_lower(line[i])) return false;
  std::size_t end = i;
  while (end < line.size() && !is_space(line[end])) ++end;
  if (find_aws_field(line.substr(i, end - i)) != AwsField::unknown) return true;
  std::size_t known = 0;
  while (i < line.size()) {
    if (is_space(line[i])) {
      ++i;
      continue;
    }
    if (!is_lower(line[i])) return false;
    end = i;
    while (end < line.size() && !is_space(line[end])) {
      const char ch = line[end];
      if (!is_lower(ch) && ch != '-') return false;
      ++end;
    }
    known += find_aws_field(line.substr(i, end - i)) != AwsField::unknown ? 1 : 0;
    i = end;
  }
  return known >= 2;
}

}  // namespace

AwsTextDecoder::AwsTextDecoder(const DecoderOptions& options) : max_line_bytes_(options.max_line_bytes) {
  if (options.aws_fields.find_first_not_of(" \t\r\n") == std::string::npos) {
    set_format(AwsFormat::default_v2());
    return;
  }
  AwsFormat configured;
  std::string error = AwsFormat::parse(options.aws_fields, configured);
  if (error.empty()) {
    set_format(std::move(configured));
  } else {
    configuration_error_ = "the configured AWS format (aws_fields) is invalid: " + error;
    format_usable_ = false;
    tokens_.assign(1, std::string_view{});  // the header check reads the first token
  }
}

void AwsTextDecoder::set_format(AwsFormat format) {
  current_ = std::move(format);
  format_usable_ = true;
  tokens_.assign(current_.size() + 1, std::string_view{});
}

void AwsTextDecoder::feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) {
  const char* p = lines.data();
  const char* const end = p + lines.size();
  std::uint64_t line_number = first_line;
  while (p < end) {
    const auto* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* line_end = newline != nullptr ? newline : end;
    decode_line(std::string_view(p, static_cast<std::size_t>(line_end - p)), line_number, sink);
    ++line_number;
    p = newline != nullptr ? newline + 1 : end;
  }
}

void AwsTextDecoder::finish(DecodeSink&) {}

void AwsTextDecoder::reject(RejectReason reason, std::string_view line, std::uint64_t line_number,
                            DecodeSink& sink) {
  sink.on_reject(Reject{reason, line_number, line.substr(0, kMaxRawBytes), message_});
}

bool AwsTextDecoder::try_header(std::string_view line, std::uint64_t line_number, DecodeSink& sink) {
  if (!looks_like_header(line)) return false;
  AwsFormat header;
  std::string error = AwsFormat::parse(line, header);
  if (error.empty() && header.known_count() == 0) error = "the header names no AWS field";
  if (!error.empty()) {
    message_ = "header line: " + error + "; keeping the previous field order";
    reject(RejectReason::header_mismatch, line, line_number, sink);
    return true;
  }
  set_format(std::move(header));
  return true;
}

void AwsTextDecoder::decode_line(std::string_view line, std::uint64_t line_number, DecodeSink& sink) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_line_bytes_) {
    message_.clear();
    fmt::format_to(std::back_inserter(message_), "line is {} bytes, over the limit of {}", line.size(),
                   max_line_bytes_);
    reject(RejectReason::line_too_long, line, line_number, sink);
    return;
  }

  // Split on runs of separators, keeping at most columns + 1 tokens but counting all.
  const char* p = line.data();
  const char* const end = p + line.size();
  std::string_view* const tokens = tokens_.data();
  const std::size_t capacity = tokens_.size();
  std::size_t count = 0;
  for (;;) {
    while (p < end && is_space(*p)) ++p;
    if (p == end) break;
    const char* start = p;
    while (p < end && !is_space(*p)) ++p;
    if (count < capacity) tokens[count] = std::string_view(start, static_cast<std::size_t>(p - start));
    ++count;
  }
  if (count == 0) return;  // blank line

  if (is_lower(tokens[0].front()) && try_header(line, line_number, sink)) return;

  if (!format_usable_) {
    message_ = configuration_error_;
    reject(RejectReason::header_mismatch, line, line_number, sink);
    return;
  }
  const std::size_t columns = current_.size();
  if (count != columns) {
    message_.clear();
    fmt::format_to(std::back_inserter(message_), "line has {} fields but the format has {}", count, columns);
    reject(RejectReason::wrong_field_count, line, line_number, sink);
    return;
  }

  record_.reset();
  const auto error = apply_aws_fields(current_.columns(), std::span<const std::string_view>(tokens, columns), record_);
  if (error) {
    message_.clear();
    fmt::format_to(std::back_inserter(message_), "field '{}' ({}): \"{}\" {}", current_.columns()[error->column].name,
                   error->column + 1, quoted(tokens[error->column]), error->what);
    reject(error->reason, line, line_number, sink);
    return;
  }
  record_.source_line = line_number;
  record_.source_index = source_index_;
  sink.on_record(record_);
}

}  // namespace flowlier::pipeline::formats

namespace flowlier::pipeline {

std::unique_ptr<Decoder> make_aws_text_decoder(const DecoderOptions& options) {
  return std::make_unique<formats::AwsTextDecoder>(options);
}

}  // namespace flowlier::pipeline
