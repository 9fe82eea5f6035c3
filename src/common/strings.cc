#include "common/strings.h"

namespace berth {

std::string_view trim(std::string_view text, std::string_view blanks) {
  const size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(sep, start);
    parts.push_back(
        text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string csv_text_field(std::string_view text) {
  if (text.empty() || std::string_view("=+-@\t\r").find(text.front()) == std::string_view::npos)
    return csv_field(text);
  return csv_field("'" + std::string(text));
}

namespace {

bool is_c0_or_del(unsigned char ch) { return ch < 0x20 || ch == 0x7F; }
// The second byte of a C1 control character after 0xC2 (U+0080 to U+009F).
bool is_c1_tail(unsigned char ch) { return ch >= 0x80 && ch <= 0x9F; }

}  // namespace

bool has_control_chars(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto ch = static_cast<unsigned char>(text[i]);
    if (is_c0_or_del(ch)) return true;
    if (ch == 0xC2 && i + 1 < text.size() && is_c1_tail(static_cast<unsigned char>(text[i + 1])))
      return true;
  }
  return false;
}

std::string terminal_safe(std::string_view text) {
  if (!has_control_chars(text)) return std::string(text);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size(); ++i) {
    const auto ch = static_cast<unsigned char>(text[i]);
    if (is_c0_or_del(ch)) {
      out += "\\x";
      out += kHex[ch >> 4];
      out += kHex[ch & 0xF];
    } else if (ch == 0xC2 && i + 1 < text.size() &&
               is_c1_tail(static_cast<unsigned char>(text[i + 1]))) {
      const auto c1 = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += kHex[c1 >> 4];
      out += kHex[c1 & 0xF];
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace berth
