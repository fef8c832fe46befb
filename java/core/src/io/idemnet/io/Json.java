package io.idemnet.io;

import java.util.ArrayList;
import java.util.List;

/**
 * The small JSON subset a safetensors header uses: objects, arrays, strings (all escapes) and
 * integers that fit a {@code long}. Everything else (fractions, exponents, true, false, null,
 * trailing commas, comments, nesting deeper than {@link #MAX_DEPTH}) is rejected with the position.
 *
 * <p>Parsed values are {@link JsonObject} (members in order, duplicates kept so the caller can
 * name them), {@code List<Object>}, {@code String} and {@code Long}.
 */
final class Json {
  private Json() {}

  /** Deeper than any safetensors header needs (3), shallow enough that recursion is safe. */
  static final int MAX_DEPTH = 32;

  record Member(String key, Object value) {}

  record JsonObject(List<Member> members) {}

  /** Malformed JSON; the message gives the character position in the header text. */
  static final class SyntaxException extends Exception {
    private static final long serialVersionUID = 1L;

    SyntaxException(int position, String message) {
      super(message + " at character " + position);
    }
  }

  // ------------------------------------------------------------------ parsing

  static Object parse(String text) throws SyntaxException {
    Parser p = new Parser(text);
    p.skipWhitespace();
    Object value = p.value(0);
    p.skipWhitespace();
    if (p.pos != text.length()) throw p.error("unexpected " + p.describe() + " after the end of the JSON value");
    return value;
  }

  private static final class Parser {
    final String s;
    int pos;

    Parser(String s) {
      this.s = s;
    }

    SyntaxException error(String message) {
      return new SyntaxException(pos, message);
    }

    String describe() {
      if (pos >= s.length()) return "end of header";
      char c = s.charAt(pos);
      if (c < 0x20 || c > 0x7e) return String.format("character U+%04X", (int) c);
      return "character '" + c + "'";
    }

    void skipWhitespace() {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
        pos++;
      }
    }

    void expect(char c) throws SyntaxException {
      if (pos >= s.length() || s.charAt(pos) != c) throw error("expected '" + c + "' but found " + describe());
      pos++;
    }

    Object value(int depth) throws SyntaxException {
      if (pos >= s.length()) throw error("unexpected end of header, expected a value");
      char c = s.charAt(pos);
      switch (c) {
        case '{':
          return object(depth + 1);
        case '[':
          return array(depth + 1);
        case '"':
          return string();
        case 't', 'f', 'n':
          throw error("unsupported JSON literal (true, false and null do not occur in a safetensors header)");
        default:
          if (c == '-' || (c >= '0' && c <= '9')) return integer();
          throw error("unexpected " + describe() + ", expected a value");
      }
    }

    JsonObject object(int depth) throws SyntaxException {
      if (depth > MAX_DEPTH) throw error("JSON nested deeper than " + MAX_DEPTH + " levels");
      expect('{');
      List<Member> members = new ArrayList<>();
      skipWhitespace();
      if (pos < s.length() && s.charAt(pos) == '}') {
        pos++;
        return new JsonObject(members);
      }
      while (true) {
        skipWhitespace();
        if (pos >= s.length() || s.charAt(pos) != '"') throw error("expected a string key but found " + describe());
        String key = string();
        skipWhitespace();
        expect(':');
        skipWhitespace();
        members.add(new Member(key, value(depth)));
        skipWhitespace();
        if (pos < s.length() && s.charAt(pos) == ',') {
          pos++;
          continue;
        }
        if (pos < s.length() && s.charAt(pos) == '}') {
          pos++;
          return new JsonObject(members);
        }
        throw error("expected ',' or '}' but found " + describe());
      }
    }

    List<Object> array(int depth) throws SyntaxException {
      if (depth > MAX_DEPTH) throw error("JSON nested deeper than " + MAX_DEPTH + " levels");
      expect('[');
      List<Object> items = new ArrayList<>();
      skipWhitespace();
      if (pos < s.length() && s.charAt(pos) == ']') {
        pos++;
        return items;
      }
      while (true) {
        skipWhitespace();
        items.add(value(depth));
        skipWhitespace();
        if (pos < s.length() && s.charAt(pos) == ',') {
          pos++;
          continue;
        }
        if (pos < s.length() && s.charAt(pos) == ']') {
          pos++;
          return items;
        }
        throw error("expected ',' or ']' but found " + describe());
      }
    }

    String string() throws SyntaxException {
      expect('"');
      StringBuilder out = new StringBuilder();
      while (true) {
        if (pos >= s.length()) throw error("unterminated string");
        char c = s.charAt(pos);
        if (c == '"') {
          pos++;
          return out.toString();
        }
        if (c < 0x20) throw error(String.format("unescaped control character U+%04X in a string", (int) c));
        if (c != '\\') {
          out.append(c);
          pos++;
          continue;
        }
        pos++;
        if (pos >= s.length()) throw error("unterminated escape in a string");
        char e = s.charAt(pos);
        switch (e) {
          case '"', '\\', '/' -> out.append(e);
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'u' -> {
            int escapeStart = pos - 1;
            pos++;
            char u = hex4();
            if (Character.isLowSurrogate(u)) {
              pos = escapeStart;
              throw error("lone low surrogate \\u" + hexString(u) + " in a string");
            }
            if (Character.isHighSurrogate(u)) {
              if (pos + 1 < s.length() && s.charAt(pos) == '\\' && s.charAt(pos + 1) == 'u') {
                pos += 2;
                char low = hex4();
                if (!Character.isLowSurrogate(low)) {
                  pos = escapeStart;
                  throw error("high surrogate \\u" + hexString(u) + " not followed by a low surrogate in a string");
                }
                out.append(u).append(low);
              } else {
                pos = escapeStart;
                throw error("lone high surrogate \\u" + hexString(u) + " in a string");
              }
            } else {
              out.append(u);
            }
            continue; // hex4 has moved past the digits
          }
          default -> throw error("invalid escape '\\" + (e < 0x20 || e > 0x7e ? "?" : String.valueOf(e)) + "' in a string");
        }
        pos++;
      }
    }

    /** Four hex digits at pos, consumed. */
    char hex4() throws SyntaxException {
      if (pos + 4 > s.length()) throw error("truncated \\u escape");
      int v = 0;
      for (int i = 0; i < 4; i++) {
        int d = Character.digit(s.charAt(pos), 16);
        // Character.digit also accepts non-ASCII digits; JSON allows only [0-9a-fA-F].
        if (d < 0 || s.charAt(pos) > 'f') throw error("invalid hex digit " + describe() + " in a \\u escape");
        v = v * 16 + d;
        pos++;
      }
      return (char) v;
    }

    Long integer() throws SyntaxException {
      int start = pos;
      if (s.charAt(pos) == '-') pos++;
      if (pos >= s.length() || !isDigit(s.charAt(pos))) throw error("expected a digit but found " + describe());
      if (s.charAt(pos) == '0') {
        pos++;
        if (pos < s.length() && isDigit(s.charAt(pos))) throw error("number with a leading zero");
      } else {
        while (pos < s.length() && isDigit(s.charAt(pos))) pos++;
      }
      if (pos < s.length() && (s.charAt(pos) == '.' || s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
        throw error("number " + s.substring(start, pos) + "... is not an integer; a safetensors header has integers only");
      }
      String digits = s.substring(start, pos);
      try {
        return Long.parseLong(digits);
      } catch (NumberFormatException ex) {
        pos = start;
        throw error("integer " + digits + " is out of range");
      }
    }

    static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }
  }

  private static String hexString(char c) {
    return String.format("%04X", (int) c);
  }

  // ------------------------------------------------------------------ writing

  /** Appends {@code s} as a JSON string: quotes, backslashes and control characters escaped. */
  static void writeString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) out.append("\\u").append(hexString(c).toLowerCase(java.util.Locale.ROOT));
          else out.append(c);
        }
      }
    }
    out.append('"');
  }

  /** Index of the first unpaired surrogate in {@code s} (not encodable as UTF-8), or -1. */
  static int unpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
        else return i;
      } else if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }
}
