#include "pipeline/formats/AwsTextDecoder.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <iterator>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// Bit i set when block[i] is a separator (space or tab).
#if defined(__SSE2__)
inline std::uint64_t separator_mask(const char* block) {
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i tab = _mm_set1_epi8('\t');
  std::uint64_t mask = 0;
  for (int i = 0; i < 4; ++i) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i));
    const __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(chunk, space), _mm_cmpeq_epi8(chunk, tab));
    mask |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(hit))) << (16 * i);
  }
  return mask;
}
#else
inline std::uint64_t separator_mask(const char* block) {
  std::uint64_t mask = 0;
  for (int i = 0; i < 64; ++i) mask |= static_cast<std::uint64_t>(is_space(block[i])) << i;
  return mask;
}
#endif

// Splits `line` on runs of separators. Stores the first `capacity` tokens and returns
// how many there are in all. Works on 64-byte blocks with a separator bitmask, so the
// cost is a few operations per token instead of a branch per byte (token lengths are
// unpredictable, and a byte loop mispredicts at nearly every token end).
// Bytes up to readable_end may be loaded (and ignored) past the line's end; that
// spares the copy of the last partial block for every line but the last of a chunk.
std::size_t split(std::string_view line, const char* readable_end, std::string_view* tokens, std::size_t capacity) {
  const char* const data = line.data();
  const std::size_t size = line.size();
  std::size_t starts_seen = 0;  // tokens begun so far
  std::size_t ends_seen = 0;    // tokens ended so far (token k's end is the k-th end)
  std::uint64_t carry = 0;      // 1 when the previous block ended inside a token
  char tail[64];
  for (std::size_t base = 0; base < size; base += 64) {
    const char* block = data + base;
    std::uint64_t in_line = ~std::uint64_t{0};
    if (size - base < 64) {
      if (readable_end - block >= 64) {
        in_line = (std::uint64_t{1} << (size - base)) - 1;  // bytes past the line count as separators
      } else {
        // Pad the last partial block with separators so the final token ends inside it.
        std::memset(tail, ' ', sizeof tail);
        std::memcpy(tail, block, size - base);
        block = tail;
      }
    }
    const std::uint64_t inside = ~separator_mask(block) & in_line;
    std::uint64_t starts = inside & ~((inside << 1) | carry);
    std::uint64_t ends = ~inside & ((inside << 1) | carry);
    carry = inside >> 63;
    // Starts and ends alternate, so the k-th start and the k-th end bound token k:
    // no comparison between them is needed.
    while (starts != 0) {
      if (starts_seen < capacity) tokens[starts_seen] = std::string_view(data + base + std::countr_zero(starts), 0);
      ++starts_seen;
      starts &= starts - 1;
    }
    while (ends != 0) {
      if (ends_seen < capacity) {
        const char* begin = tokens[ends_seen].data();
        tokens[ends_seen] =
            std::string_view(begin, static_cast<std::size_t>(data + base + std::countr_zero(ends) - begin));
      }
      ++ends_seen;
      ends &= ends - 1;
    }
  }
  if (carry != 0 && ends_seen < capacity) {  // the line ends at a block boundary inside a token
    const char* begin = tokens[ends_seen].data();
    tokens[ends_seen] = std::string_view(begin, static_cast<std::size_t>(data + size - begin));
  }
  return starts_seen;
}

std::size_t count_fields(std::string_view line) {
  std::size_t fields = 0;
  bool in_field = false;
  for (char c : line) {
    const bool space = c == ' ' || c == '\t' || c == '\r';
    if (!space && !in_field) ++fields;
    in_field = !space;
  }
  return fields;
}

// The formats "every field up to version N", in the order AWS documents them.
const AwsFormat* standard_format_for(std::size_t fields) {
  static const std::vector<std::pair<std::size_t, AwsFormat>> formats = [] {
    const char* const parts[] = {
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
        "log-status",
        " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr",
        " region az-id sublocation-type sublocation-id",
        " pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path",
        " ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id"
        " ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id",
        " reject-reason"};
    std::vector<std::pair<std::size_t, AwsFormat>> out;
    std::string names;
    for (const char* part : parts) {
      names += part;
      AwsFormat f;
      if (AwsFormat::parse(names, f).empty()) out.emplace_back(f.size(), f);
    }
    return out;
  }();
  for (const auto& [size, format] : formats) {
    if (size == fields) return &format;
  }
  return nullptr;
}

}  // namespace

AwsTextDecoder::AwsTextDecoder(const DecoderOptions& options) : max_line_bytes_(options.max_line_bytes) {
  if (options.aws_fields.find_first_not_of(" \t\r\n") == std::string::npos) {
    set_format(AwsFormat::default_v2());
    guessing_ = true;
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
  record_.reset();  // apply_aws_fields resets only the slots of the current format
}

void AwsTextDecoder::feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) {
  const char* p = lines.data();
  const char* const end = p + lines.size();
  std::uint64_t line_number = first_line;
  while (p < end) {
    const auto* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* line_end = newline != nullptr ? newline : end;
    decode_line(std::string_view(p, static_cast<std::size_t>(line_end - p)), end, line_number, sink);
    ++line_number;
    p = newline != nullptr ? newline + 1 : end;
  }
}

void AwsTextDecoder::finish(DecodeSink&) {}

void AwsTextDecoder::reject(RejectReason reason, std::string_view line, std::uint64_t line_number, DecodeSink& sink) {
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
  guessing_ = false;  // a header always wins
  return true;
}

void AwsTextDecoder::decode_line(std::string_view line, std::uint64_t line_number, DecodeSink& sink) {
  decode_line(line, line.data() + line.size(), line_number, sink);
}

void AwsTextDecoder::decode_line(std::string_view line, const char* readable_end, std::uint64_t line_number,
                                 DecodeSink& sink) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_line_bytes_) {
    message_.clear();
    fmt::format_to(std::back_inserter(message_), "line is {} bytes, over the limit of {}", line.size(),
                   max_line_bytes_);
    reject(RejectReason::line_too_long, line, line_number, sink);
    return;
  }

  const std::size_t count = split(line, readable_end, tokens_.data(), tokens_.size());
  if (count == 0) return;  // blank line

  std::string_view* const tokens = tokens_.data();
  if (is_lower(tokens[0].front()) && try_header(line, line_number, sink)) return;

  if (!format_usable_) {
    message_ = configuration_error_;
    reject(RejectReason::header_mismatch, line, line_number, sink);
    return;
  }
  if (count != current_.size() && guessing_) {
    // Switch only to a format of another size: the tokenizer and count_fields may
    // disagree on odd bytes, and the retry must not loop (found by fuzz_aws_text).
    const AwsFormat* standard = standard_format_for(count_fields(line));
    if (standard != nullptr && standard->size() != current_.size()) {
      set_format(*standard);
      return decode_line(line, readable_end, line_number, sink);
    }
  }
  const std::size_t columns = current_.size();
  if (count != columns) {
    message_.clear();
    fmt::format_to(std::back_inserter(message_), "line has {} fields but the format has {}", count, columns);
    reject(RejectReason::wrong_field_count, line, line_number, sink);
    return;
  }

  const auto error =
      apply_aws_fields(current_, std::span<const std::string_view>(tokens, columns), readable_end, record_);
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
