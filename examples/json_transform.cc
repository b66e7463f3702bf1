// json_transform: reads one JSON object on stdin, e.g.
//
//   {"name": "sensor-7", "values": [1, 2, 3.5]}
//
// and prints statistics over its "values" array as one line of JSON:
//
//   {"name":"sensor-7","count":3,"sum":6.5,"min":1,"max":3.5,"mean":2.1666666666666665}
//
// "name" (a string) and "values" (an array of numbers) are both optional;
// other members are ignored, and for an empty array min, max and mean are
// null. The parser accepts any RFC 8259 JSON text and rejects everything
// else: on malformed input or wrong member types the program writes one
// line to stderr, naming the byte offset of the problem, and exits with 1.
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "milf.h"

namespace {

// Deeper nesting is rejected so hostile input cannot exhaust the stack.
constexpr int kMaxDepth = 64;

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> items;       // array elements, or object member values
  std::vector<std::string> keys;  // object member names, parallel to items

  // The value of the last member named `key`, or nullptr.
  const Value* Find(std::string_view key) const {
    for (size_t i = keys.size(); i-- > 0;) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

// Recursive-descent parser over the whole input. Each Parse* function
// returns false after recording the first error and its offset.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool ParseDocument(Value* out) {
    SkipWhitespace();
    if (!ParseValue(out, 0)) return false;
    SkipWhitespace();
    if (pos_ != text_.size()) return Fail("unexpected data after the JSON value");
    return true;
  }

  const char* error() const { return error_; }
  size_t error_offset() const { return error_offset_; }

 private:
  bool Fail(const char* message) {
    if (error_ == nullptr) {
      error_ = message;
      error_offset_ = pos_;
    }
    return false;
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  bool Consume(char c) {
    if (AtEnd() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  bool ConsumeWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  void SkipWhitespace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) {
      ++pos_;
    }
  }

  bool ParseValue(Value* out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    if (AtEnd()) return Fail("unexpected end of input");
    switch (Peek()) {
      case '{':
        return ParseObject(out, depth);
      case '[':
        return ParseArray(out, depth);
      case '"':
        out->kind = Value::Kind::kString;
        return ParseString(&out->string);
      case 't':
      case 'f':
        out->kind = Value::Kind::kBool;
        out->boolean = Peek() == 't';
        return ConsumeWord(out->boolean ? "true" : "false") || Fail("invalid literal");
      case 'n':
        out->kind = Value::Kind::kNull;
        return ConsumeWord("null") || Fail("invalid literal");
      default:
        out->kind = Value::Kind::kNumber;
        return ParseNumber(&out->number);
    }
  }

  bool ParseObject(Value* out, int depth) {
    out->kind = Value::Kind::kObject;
    ++pos_;  // '{'
    SkipWhitespace();
    if (Consume('}')) return true;
    for (;;) {
      SkipWhitespace();
      if (Peek() != '"') return Fail("expected a member name");
      std::string key;
      if (!ParseString(&key)) return false;
      SkipWhitespace();
      if (!Consume(':')) return Fail("expected ':'");
      SkipWhitespace();
      out->keys.push_back(std::move(key));
      out->items.emplace_back();
      if (!ParseValue(&out->items.back(), depth + 1)) return false;
      SkipWhitespace();
      if (Consume('}')) return true;
      if (!Consume(',')) return Fail("expected ',' or '}'");
    }
  }

  bool ParseArray(Value* out, int depth) {
    out->kind = Value::Kind::kArray;
    ++pos_;  // '['
    SkipWhitespace();
    if (Consume(']')) return true;
    for (;;) {
      SkipWhitespace();
      out->items.emplace_back();
      if (!ParseValue(&out->items.back(), depth + 1)) return false;
      SkipWhitespace();
      if (Consume(']')) return true;
      if (!Consume(',')) return Fail("expected ',' or ']'");
    }
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool ConsumeDigits() {
    if (!IsDigit(Peek())) return false;
    while (IsDigit(Peek())) ++pos_;
    return true;
  }

  // Validates the JSON number grammar, then converts with strtod.
  bool ParseNumber(double* out) {
    const size_t start = pos_;
    Consume('-');
    if (!Consume('0') && !ConsumeDigits()) return Fail("invalid value");
    if (Consume('.') && !ConsumeDigits()) return Fail("expected digits after '.'");
    if (Consume('e') || Consume('E')) {
      if (!Consume('+')) Consume('-');
      if (!ConsumeDigits()) return Fail("expected digits in exponent");
    }
    const std::string digits(text_.substr(start, pos_ - start));
    *out = std::strtod(digits.c_str(), nullptr);
    if (!std::isfinite(*out)) {
      pos_ = start;
      return Fail("number out of range");
    }
    return true;
  }

  // Reads four hex digits of a \u escape.
  bool ParseHex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        --pos_;
        return Fail("invalid hex digit in \\u escape");
      }
    }
    *out = v;
    return true;
  }

  // A \u escape, including a UTF-16 surrogate pair, as one code point.
  bool ParseUnicodeEscape(uint32_t* code_point) {
    uint32_t unit = 0;
    if (!ParseHex4(&unit)) return false;
    if (unit >= 0xDC00 && unit <= 0xDFFF) return Fail("unpaired low surrogate");
    if (unit < 0xD800 || unit > 0xDBFF) {
      *code_point = unit;
      return true;
    }
    if (!ConsumeWord("\\u")) return Fail("unpaired high surrogate");
    uint32_t low = 0;
    if (!ParseHex4(&low)) return false;
    if (low < 0xDC00 || low > 0xDFFF) return Fail("unpaired high surrogate");
    *code_point = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool ParseEscape(std::string* out) {
    if (AtEnd()) return Fail("unterminated string");
    const char c = text_[pos_++];
    switch (c) {
      case '"': out->push_back('"'); return true;
      case '\\': out->push_back('\\'); return true;
      case '/': out->push_back('/'); return true;
      case 'b': out->push_back('\b'); return true;
      case 'f': out->push_back('\f'); return true;
      case 'n': out->push_back('\n'); return true;
      case 'r': out->push_back('\r'); return true;
      case 't': out->push_back('\t'); return true;
      case 'u': {
        uint32_t code_point = 0;
        if (!ParseUnicodeEscape(&code_point)) return false;
        AppendUtf8(code_point, out);
        return true;
      }
      default:
        --pos_;
        return Fail("invalid escape");
    }
  }

  bool ParseString(std::string* out) {
    ++pos_;  // '"'
    for (;;) {
      if (AtEnd()) return Fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in string");
      ++pos_;
      if (c != '\\') {
        out->push_back(c);
      } else if (!ParseEscape(out)) {
        return false;
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  const char* error_ = nullptr;
  size_t error_offset_ = 0;
};

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out->append(escaped);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// Integral values print without a fraction; others with the fewest
// significant digits that read back as the same double.
void AppendNumber(double v, std::string* out) {
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%" PRId64, static_cast<int64_t>(v));
  } else {
    for (int precision = 15; precision <= 17; ++precision) {
      std::snprintf(buf, sizeof buf, "%.*g", precision, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
  }
  out->append(buf);
}

void AppendMember(std::string_view key, std::string* out) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
}

int Reject(const char* message) {
  milf_logf("json_transform: %s", message);
  return 1;
}

int Run(std::string_view input) {
  Parser parser(input);
  Value doc;
  if (!parser.ParseDocument(&doc)) {
    milf_logf("json_transform: invalid JSON: %s at offset %zu", parser.error(),
              parser.error_offset());
    return 1;
  }
  if (doc.kind != Value::Kind::kObject) return Reject("input must be a JSON object");

  const Value* name = doc.Find("name");
  if (name != nullptr && name->kind != Value::Kind::kString) {
    return Reject("\"name\" must be a string");
  }
  const Value* values = doc.Find("values");
  if (values != nullptr && values->kind != Value::Kind::kArray) {
    return Reject("\"values\" must be an array of numbers");
  }

  size_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  if (values != nullptr) {
    for (const Value& v : values->items) {
      if (v.kind != Value::Kind::kNumber) return Reject("\"values\" must be an array of numbers");
      min = count == 0 || v.number < min ? v.number : min;
      max = count == 0 || v.number > max ? v.number : max;
      sum += v.number;
      ++count;
    }
  }
  if (!std::isfinite(sum)) return Reject("sum of \"values\" is out of range");

  std::string out = "{";
  AppendMember("name", &out);
  if (name != nullptr) {
    AppendJsonString(name->string, &out);
  } else {
    out.append("null");
  }
  AppendMember("count", &out);
  AppendNumber(static_cast<double>(count), &out);
  AppendMember("sum", &out);
  AppendNumber(sum, &out);
  const struct {
    const char* key;
    double value;
  } stats[] = {{"min", min}, {"max", max}, {"mean", count > 0 ? sum / count : 0}};
  for (const auto& stat : stats) {
    AppendMember(stat.key, &out);
    if (count > 0) {
      AppendNumber(stat.value, &out);
    } else {
      out.append("null");
    }
  }
  out.append("}\n");
  return milf_write_output(out.data(), out.size()) == 0 ? 0 : 1;
}

}  // namespace

int main() {
  unsigned char* input = nullptr;
  size_t len = 0;
  if (milf_read_input(&input, &len) != 0) return Reject("cannot read stdin");
  const int status = Run(std::string_view(reinterpret_cast<const char*>(input), len));
  std::free(input);
  return status;
}
