package io.idemnet.bindgen;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.lang.model.SourceVersion;

/**
 * Writes idemnet's Java FFM downcall classes from its C headers ({@code native/include/*.h}).
 * jextract is not available to the build, and the headers are small and strictly styled, so this
 * one-file program reads them itself. The Maven build runs it before compiling:
 *
 * <pre>java tools/bindgen/io/idemnet/bindgen/BindingsGenerator.java target/generated-sources/bindings native/include</pre>
 *
 * <p>Each header names its Java class in a {@code /* bindgen: key=value ... *}{@code /} comment
 * (keys: {@code class}, {@code prefix}, and for a library's header {@code library},
 * {@code loader}, {@code pointers}). A header without functions becomes a class of constants
 * and struct records; a library's header becomes a class with one {@code MethodHandle} per
 * function and a typed static wrapper that calls it with {@code invokeExact} and turns a non-zero
 * status into a {@code NativeCallException} carrying {@code <prefix>last_error()}.
 *
 * <p>The style rules the parser relies on (stated again at the top of every header):
 * <ul>
 *   <li>A function is {@code IDEMNET_API <type> <prefix><name>(<type> <name>, ...);} (it may span
 *       lines; {@code (void)} for none). It returns an {@code int} status, except
 *       {@code const char* <prefix>last_error(void)} and {@code int <prefix>abi_version(void)}.
 *   <li>Types: {@code int}, {@code int64_t}, {@code uint64_t}, {@code float}, {@code double}, and
 *       pointers ({@code const} allowed) to those, {@code void}, {@code char} and the header's
 *       typedefs. A struct is passed only as {@code const <struct>*} (an input).
 *   <li>{@code typedef struct X X;} declares an opaque handle; {@code typedef struct X { <scalar
 *       type> <name>; ... } X;} a struct of scalars, one field per line.
 *   <li>Constants are {@code #define <PREFIX><NAME> <integer>} or enumerators with explicit
 *       values ({@code <PREFIX><NAME> = <integer>}); the Java name drops the prefix.
 *   <li>Other {@code #define}s are include guards (no value) and {@code IDEMNET_API}; conditionals
 *       and {@code extern "C"} are skipped; {@code #include "x.h"} names another header of the same
 *       folder (its constants, structs and typedefs become visible), {@code #include <stdint.h>}
 *       is the only system header.
 *   <li>A comment ending on the line just above a declaration (or trailing a {@code #define},
 *       enumerator or field on its line) becomes its Javadoc.
 * </ul>
 * Anything else fails the build with {@code file:line:} and what was expected.
 */
public final class BindingsGenerator {

  /** Marks every exported function; also the one valued {@code #define} that is not a constant. */
  static final String API_MARKER = "IDEMNET_API";

  private BindingsGenerator() {}

  /** A header that breaks the style rules; the message starts with {@code file:line:}. */
  public static final class HeaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HeaderException(String file, int line, String message) {
      super(file + ":" + line + ": " + message);
    }
  }

  /**
   * One header: the name an {@code #include "..."} uses, the name shown in messages (its path),
   * and its text.
   */
  public record HeaderSource(String fileName, String displayName, String text) {}

  public static void main(String[] args) {
    int status = run(args, System.err);
    if (status != 0) System.exit(status);
  }

  /**
   * Runs the generator: {@code <output folder> <header or folder of headers>...}; returns the exit
   * status (0, or 1 with the reason on {@code err}).
   */
  public static int run(String[] args, PrintStream err) {
    if (args.length < 2) {
      err.println("usage: java BindingsGenerator.java <generated source folder> <header.h or folder>...");
      return 2;
    }
    try {
      List<HeaderSource> headers = new ArrayList<>();
      for (int i = 1; i < args.length; i++) headers.addAll(readHeaders(Path.of(args[i])));
      write(Path.of(args[0]), generate(headers));
      return 0;
    } catch (HeaderException e) {
      err.println("bindgen: " + e.getMessage());
      return 1;
    } catch (IOException e) {
      err.println("bindgen: " + e);
      return 1;
    }
  }

  /** A header file, or every {@code *.h} file of a folder in name order. */
  public static List<HeaderSource> readHeaders(Path path) throws IOException {
    List<Path> files;
    if (Files.isDirectory(path)) {
      try (Stream<Path> list = Files.list(path)) {
        files = list.filter(f -> f.getFileName().toString().endsWith(".h")).sorted().toList();
      }
      if (files.isEmpty()) throw new IOException("no *.h file in " + path);
    } else {
      files = List.of(path);
    }
    List<HeaderSource> headers = new ArrayList<>();
    for (Path file : files) {
      headers.add(new HeaderSource(file.getFileName().toString(), file.toString(),
          Files.readString(file, StandardCharsets.UTF_8)));
    }
    return headers;
  }

  /**
   * Parses the headers and returns the Java sources, keyed by their path below the source root
   * (e.g. {@code io/idemnet/backend/cpu/CpuNative.java}).
   *
   * @throws HeaderException naming file and line of the first declaration that breaks the rules
   */
  public static Map<String, String> generate(List<HeaderSource> headers) {
    Map<String, HeaderSource> byName = new LinkedHashMap<>();
    for (HeaderSource h : headers) byName.put(h.fileName(), h);
    Map<String, Header> parsed = new LinkedHashMap<>();
    for (HeaderSource h : headers) parse(h, byName, parsed, new ArrayList<>());
    Map<String, String> out = new TreeMap<>();
    Set<String> classes = new HashSet<>();
    for (Header h : parsed.values()) {
      if (!classes.add(h.config.javaClass)) {
        throw new HeaderException(h.display, h.configLine, "class " + h.config.javaClass
            + " is generated from another header as well");
      }
      out.put(h.config.javaClass.replace('.', '/') + ".java", new Emitter(h).emit());
    }
    return out;
  }

  /** Writes each source that changed and deletes generated files that are no longer produced. */
  static void write(Path root, Map<String, String> sources) throws IOException {
    for (Map.Entry<String, String> e : sources.entrySet()) {
      Path file = root.resolve(e.getKey());
      if (Files.isRegularFile(file) && Files.readString(file, StandardCharsets.UTF_8).equals(e.getValue())) continue;
      Files.createDirectories(file.getParent());
      Files.writeString(file, e.getValue(), StandardCharsets.UTF_8);
    }
    if (!Files.isDirectory(root)) return;
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String key = root.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
        if (!sources.containsKey(key)) Files.delete(f);
      }
    }
  }

  private static Header parse(HeaderSource source, Map<String, HeaderSource> byName, Map<String, Header> parsed,
      List<String> including) {
    Header done = parsed.get(source.fileName());
    if (done != null) return done;
    if (including.contains(source.fileName())) {
      throw new HeaderException(source.displayName(), 1, "#include cycle: " + String.join(" -> ", including)
          + " -> " + source.fileName());
    }
    including.add(source.fileName());
    Header h = new Parser(source, name -> {
      HeaderSource included = byName.get(name);
      return included == null ? null : parse(included, byName, parsed, including);
    }).parse();
    including.remove(including.size() - 1);
    parsed.put(source.fileName(), h);
    return h;
  }

  // ------------------------------------------------------------------------------ model

  /** A C type: {@code const}, a base name and the number of {@code *}. */
  record CType(boolean isConst, String base, int pointers) {
    String c() {
      return (isConst ? "const " : "") + base + "*".repeat(pointers);
    }
  }

  record Param(CType type, String name) {}

  record Function(String cName, CType returns, List<Param> params, String doc, int line) {}

  record Constant(String cName, String javaName, long value, String doc, int line) {}

  record Field(CType type, String name, String doc) {}

  record Struct(String cName, String javaName, List<Field> fields, String doc, Header owner) {}

  /** The {@code bindgen:} line of a header. */
  static final class Config {
    String javaClass;
    String prefix;
    String library;
    String loader;
    String pointers;

    String packageName() {
      int dot = javaClass.lastIndexOf('.');
      return dot < 0 ? "" : javaClass.substring(0, dot);
    }

    String simpleName() {
      return javaClass.substring(javaClass.lastIndexOf('.') + 1);
    }
  }

  static final class Header {
    final String fileName;
    final String display;
    Config config;
    int configLine;
    final List<Header> includes = new ArrayList<>();
    final List<Constant> constants = new ArrayList<>();
    final Map<String, Struct> structs = new LinkedHashMap<>();
    final Set<String> opaque = new HashSet<>();
    final List<Function> functions = new ArrayList<>();

    Header(String fileName, String display) {
      this.fileName = fileName;
      this.display = display;
    }

    /** This header and everything it includes, each once. */
    List<Header> visible() {
      List<Header> all = new ArrayList<>();
      collect(this, all);
      return all;
    }

    private static void collect(Header h, List<Header> all) {
      if (all.contains(h)) return;
      all.add(h);
      for (Header i : h.includes) collect(i, all);
    }

    Struct struct(String cName) {
      for (Header h : visible()) {
        Struct s = h.structs.get(cName);
        if (s != null) return s;
      }
      return null;
    }

    boolean isOpaque(String cName) {
      for (Header h : visible()) {
        if (h.opaque.contains(cName)) return true;
      }
      return false;
    }
  }

  static final Set<String> SCALARS = Set.of("int", "int64_t", "uint64_t", "float", "double");

  /** Names the generated code uses itself. */
  static final Set<String> RESERVED_PARAMS = Set.of("status", "failure");
  static final Set<String> RESERVED_METHODS = Set.of("downcall", "rethrow", "ensureLoaded");

  // ------------------------------------------------------------------------------ tokens

  enum Kind { IDENT, NUMBER, STRING, PUNCT, DIRECTIVE, COMMENT, END }

  /** A token; for comments and directives {@code line} is the first line and {@code endLine} the last. */
  record Token(Kind kind, String text, int line, int endLine) {
    boolean is(String s) {
      return (kind == Kind.IDENT || kind == Kind.PUNCT) && text.equals(s);
    }

    String shown() {
      return switch (kind) {
        case END -> "the end of the file";
        case COMMENT -> "a comment";
        case DIRECTIVE -> "'" + text.strip() + "'";
        default -> "'" + text + "'";
      };
    }
  }

  static List<Token> tokenize(HeaderSource src) {
    String s = src.text();
    List<Token> tokens = new ArrayList<>();
    int i = 0, line = 1;
    boolean lineStart = true;
    while (i < s.length()) {
      char ch = s.charAt(i);
      if (ch == '\n') {
        line++;
        i++;
        lineStart = true;
        continue;
      }
      if (Character.isWhitespace(ch)) {
        i++;
        continue;
      }
      if (s.startsWith("/*", i)) {
        int end = s.indexOf("*/", i + 2);
        if (end < 0) throw new HeaderException(src.displayName(), line, "unterminated comment");
        String text = s.substring(i, end + 2);
        int lines = (int) text.chars().filter(c -> c == '\n').count();
        tokens.add(new Token(Kind.COMMENT, text, line, line + lines));
        line += lines;
        i = end + 2;
        continue;
      }
      if (s.startsWith("//", i)) {
        int end = s.indexOf('\n', i);
        if (end < 0) end = s.length();
        tokens.add(new Token(Kind.COMMENT, s.substring(i, end), line, line));
        i = end;
        continue;
      }
      if (ch == '#') {
        if (!lineStart) throw new HeaderException(src.displayName(), line, "'#' must start a line");
        StringBuilder text = new StringBuilder();
        int first = line;
        while (i < s.length() && s.charAt(i) != '\n') {
          if (s.charAt(i) == '\\' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
            text.append(' ');
            i += 2;
            line++;
            continue;
          }
          text.append(s.charAt(i++));
        }
        tokens.add(new Token(Kind.DIRECTIVE, text.toString(), first, line));
        continue;
      }
      lineStart = false;
      if (Character.isLetter(ch) || ch == '_') {
        int start = i;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
        tokens.add(new Token(Kind.IDENT, s.substring(start, i), line, line));
        continue;
      }
      if (Character.isDigit(ch)) {
        int start = i;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)))) i++;
        tokens.add(new Token(Kind.NUMBER, s.substring(start, i), line, line));
        continue;
      }
      if (ch == '"') {
        int end = s.indexOf('"', i + 1);
        if (end < 0 || s.substring(i, end).indexOf('\n') >= 0) {
          throw new HeaderException(src.displayName(), line, "unterminated string");
        }
        tokens.add(new Token(Kind.STRING, s.substring(i + 1, end), line, line));
        i = end + 1;
        continue;
      }
      if ("(){};,*=-".indexOf(ch) >= 0) {
        tokens.add(new Token(Kind.PUNCT, String.valueOf(ch), line, line));
        i++;
        continue;
      }
      throw new HeaderException(src.displayName(), line, "unexpected character '" + ch + "'");
    }
    tokens.add(new Token(Kind.END, "", line, line));
    return tokens;
  }

  /** The text of a C comment without its delimiters and leading {@code *} decoration. */
  static String commentText(String comment) {
    String body = comment.startsWith("//") ? comment.substring(2)
        : comment.substring(2, comment.length() - 2);
    StringBuilder out = new StringBuilder();
    for (String l : body.split("\n", -1)) {
      String t = l.strip();
      if (t.startsWith("*")) t = t.substring(1).strip();
      if (out.length() > 0) out.append('\n');
      out.append(t);
    }
    return out.toString().strip();
  }

  // ------------------------------------------------------------------------------ parser

  interface Includer {
    Header resolve(String fileName);
  }

  static final class Parser {
    private final HeaderSource src;
    private final Includer includer;
    private final List<Token> tokens;
    private final Header h;
    private int pos;
    private Token pendingDoc;
    private int externDepth;

    Parser(HeaderSource src, Includer includer) {
      this.src = src;
      this.includer = includer;
      this.tokens = tokenize(src);
      this.h = new Header(src.fileName(), src.displayName());
    }

    private HeaderException error(int line, String message) {
      return new HeaderException(src.displayName(), line, message);
    }

    /** The next token that is not a comment (comments inside a declaration are skipped). */
    private Token peek() {
      int p = pos;
      while (tokens.get(p).kind() == Kind.COMMENT) p++;
      return tokens.get(p);
    }

    private Token next() {
      while (tokens.get(pos).kind() == Kind.COMMENT) pos++;
      return tokens.get(pos++);
    }

    private Token expect(String what, String expected) {
      Token t = next();
      if (!t.is(what)) throw error(t.line(), "expected " + expected + ", found " + t.shown());
      return t;
    }

    private String ident(String expected) {
      Token t = next();
      if (t.kind() != Kind.IDENT) throw error(t.line(), "expected " + expected + ", found " + t.shown());
      return t.text();
    }

    /** A comment on the same line as the token just consumed, if the next token is one. */
    private String trailingComment(int line) {
      Token t = tokens.get(pos);
      if (t.kind() == Kind.COMMENT && t.line() == line) {
        pos++;
        return commentText(t.text());
      }
      return null;
    }

    /** The doc comment of a declaration starting at {@code line}: a comment ending just above it. */
    private String docFor(int line) {
      Token d = pendingDoc;
      pendingDoc = null;
      return d != null && d.endLine() == line - 1 ? commentText(d.text()) : null;
    }

    Header parse() {
      while (true) {
        Token t = tokens.get(pos);
        switch (t.kind()) {
          case END -> {
            if (h.config == null) {
              throw error(1, "no '/* bindgen: class=... prefix=... */' line: every header names its Java class");
            }
            if (externDepth != 0) throw error(t.line(), "unclosed extern \"C\" block");
            if (!h.functions.isEmpty()) checkLibrary();
            return h;
          }
          case COMMENT -> {
            pos++;
            String text = commentText(t.text());
            if (text.startsWith("bindgen:")) config(t, text.substring("bindgen:".length()));
            else pendingDoc = t;
          }
          case DIRECTIVE -> {
            pos++;
            directive(t);
          }
          case IDENT -> {
            requireConfig(t);
            switch (t.text()) {
              case "extern" -> externBlock();
              case "typedef" -> typedef();
              case "enum" -> enumeration();
              case API_MARKER -> function();
              default -> throw error(t.line(), "expected a declaration (" + API_MARKER
                  + " function, typedef struct, enum, #define), found " + t.shown());
            }
          }
          case PUNCT -> {
            if (t.is("}") && externDepth > 0) {
              pos++;
              externDepth--;
            } else {
              throw error(t.line(), "expected a declaration, found " + t.shown());
            }
          }
          default -> throw error(t.line(), "expected a declaration, found " + t.shown());
        }
      }
    }

    private void requireConfig(Token t) {
      if (h.config == null) {
        throw error(t.line(), "no '/* bindgen: class=... prefix=... */' line before the first declaration:"
            + " every header names its Java class");
      }
    }

    private void config(Token t, String text) {
      if (h.config != null) throw error(t.line(), "a second bindgen line");
      Config c = new Config();
      for (String part : text.strip().split("\\s+")) {
        int eq = part.indexOf('=');
        if (eq <= 0) throw error(t.line(), "bindgen: expected key=value, found '" + part + "'");
        String key = part.substring(0, eq), value = part.substring(eq + 1);
        switch (key) {
          case "class" -> c.javaClass = value;
          case "prefix" -> c.prefix = value;
          case "library" -> c.library = value;
          case "loader" -> c.loader = value;
          case "pointers" -> c.pointers = value;
          default -> throw error(t.line(), "bindgen: unknown key '" + key + "' (class, prefix, library, loader, pointers)");
        }
      }
      if (c.javaClass == null || !SourceVersion.isName(c.javaClass) || !c.javaClass.contains(".")) {
        throw error(t.line(), "bindgen: class= must name a Java class in a package");
      }
      if (c.prefix == null || !c.prefix.matches("[a-z][a-z0-9_]*_")) {
        throw error(t.line(), "bindgen: prefix= must be lower case and end with '_' (e.g. idemnet_)");
      }
      if (c.pointers != null && !c.pointers.equals("segment") && !c.pointers.equals("address")) {
        throw error(t.line(), "bindgen: pointers= must be 'segment' (MemorySegment) or 'address' (long)");
      }
      if (c.loader != null && !SourceVersion.isName(c.loader)) {
        throw error(t.line(), "bindgen: loader= must name a class with a static open() returning a SymbolLookup");
      }
      h.config = c;
      h.configLine = t.line();
    }

    private void checkLibrary() {
      Config c = h.config;
      if (c.library == null || c.loader == null || c.pointers == null) {
        throw error(h.configLine, "a header with functions needs library=, loader= and pointers= on its bindgen line");
      }
      for (String special : List.of("last_error", "abi_version")) {
        if (h.functions.stream().noneMatch(f -> f.cName().equals(c.prefix + special))) {
          throw error(h.configLine, "a library header must declare " + c.prefix + special);
        }
      }
    }

    private void directive(Token t) {
      String text = t.text().substring(1).strip();
      String doc = docFor(t.line());
      int comment = text.indexOf("/*");
      if (comment >= 0) {
        int end = text.indexOf("*/", comment);
        if (end < 0) throw error(t.line(), "a comment after a directive must end on its line");
        if (!text.substring(end + 2).isBlank()) throw error(t.line(), "text after the comment of a directive");
        doc = commentText(text.substring(comment, end + 2));
        text = text.substring(0, comment).strip();
      }
      String[] words = text.split("\\s+", 3);
      switch (words[0]) {
        case "if", "ifdef", "ifndef", "else", "elif", "endif" -> {}
        case "include" -> include(t, text.substring("include".length()).strip());
        case "define" -> define(t, words, doc);
        default -> throw error(t.line(), "unsupported directive '#" + words[0] + "'");
      }
    }

    private void include(Token t, String what) {
      if (what.equals("<stdint.h>")) return;
      if (what.length() < 2 || what.charAt(0) != '"' || what.charAt(what.length() - 1) != '"') {
        throw error(t.line(), "only #include <stdint.h> and #include \"<header of this folder>\" are allowed, found "
            + what);
      }
      String name = what.substring(1, what.length() - 1);
      Header included = includer.resolve(name);
      if (included == null) throw error(t.line(), "#include \"" + name + "\": not one of the headers given to bindgen");
      h.includes.add(included);
    }

    private void define(Token t, String[] words, String doc) {
      if (words.length < 2) throw error(t.line(), "#define without a name");
      String name = words[1];
      if (words.length == 2) return; // include guard
      if (name.equals(API_MARKER)) return; // export attribute
      requireConfig(t);
      h.constants.add(constant(t.line(), name, words[2].strip(), doc));
    }

    private Constant constant(int line, String name, String value, String doc) {
      String prefix = h.config.prefix.toUpperCase(Locale.ROOT);
      if (!name.startsWith(prefix) || name.length() == prefix.length()) {
        throw error(line, "constant " + name + " must start with " + prefix + " (the header's prefix)");
      }
      long v;
      try {
        v = Long.decode(value);
      } catch (NumberFormatException e) {
        throw error(line, "#define " + name + ": the value must be an integer literal, found '" + value + "'");
      }
      if (v != (int) v) throw error(line, "#define " + name + ": " + value + " does not fit an int");
      String javaName = name.substring(prefix.length());
      for (Header other : h.visible()) {
        for (Constant c : other.constants) {
          if (c.javaName().equals(javaName)) throw error(line, "constant " + name + " is defined twice");
        }
      }
      return new Constant(name, javaName, v, doc, line);
    }

    private void externBlock() {
      Token t = next();
      Token c = next();
      if (c.kind() != Kind.STRING || !c.text().equals("C")) throw error(t.line(), "expected extern \"C\" {");
      expect("{", "'{' after extern \"C\"");
      externDepth++;
    }

    private void typedef() {
      Token t = next();
      String doc = docFor(t.line());
      expect("struct", "'struct' (only typedef struct is supported)");
      String tag = ident("a struct tag");
      Token after = next();
      if (after.is(";")) {
        throw error(after.line(), "typedef struct " + tag + " needs the typedef name: typedef struct " + tag + " "
            + tag + ";");
      }
      if (after.kind() == Kind.IDENT) {
        if (!after.text().equals(tag)) throw error(after.line(), "the typedef name must equal the struct tag " + tag);
        expect(";", "';'");
        declareType(after.line(), tag);
        h.opaque.add(tag);
        return;
      }
      if (!after.is("{")) throw error(after.line(), "expected '{' or the typedef name, found " + after.shown());
      List<Field> fields = new ArrayList<>();
      Set<String> names = new HashSet<>();
      while (!peek().is("}")) {
        Token ft = peek();
        CType type = type();
        if (type.pointers() > 0 || !SCALARS.contains(type.base()) || type.isConst()) {
          throw error(ft.line(), "struct field type " + type.c() + ": fields are int, int64_t, uint64_t, float or double");
        }
        String name = ident("a field name");
        Token semi = expect(";", "';' after the field (one field per declaration)");
        if (!names.add(name)) throw error(ft.line(), "field " + name + " twice");
        checkJavaName(ft.line(), name);
        fields.add(new Field(type, name, trailingComment(semi.line())));
      }
      next();
      String typedefName = ident("the typedef name after '}'");
      if (!typedefName.equals(tag)) throw error(t.line(), "the typedef name must equal the struct tag " + tag);
      expect(";", "';'");
      if (fields.isEmpty()) throw error(t.line(), "struct " + tag + " has no fields");
      declareType(t.line(), tag);
      if (!tag.startsWith(h.config.prefix)) {
        throw error(t.line(), "struct " + tag + " must start with " + h.config.prefix + " (the header's prefix)");
      }
      h.structs.put(tag, new Struct(tag, camel(tag.substring(h.config.prefix.length()), true), fields, doc, h));
    }

    private void declareType(int line, String name) {
      if (SCALARS.contains(name) || h.struct(name) != null || h.isOpaque(name)) {
        throw error(line, "type " + name + " is declared twice");
      }
    }

    private void enumeration() {
      next();
      pendingDoc = null;
      ident("an enum tag");
      expect("{", "'{' (enums are 'enum tag { NAME = value, ... };')");
      while (true) {
        Token name = next();
        if (name.is("}")) break;
        if (name.kind() != Kind.IDENT) throw error(name.line(), "expected an enumerator, found " + name.shown());
        expect("=", "'=' (enumerators need explicit values)");
        boolean negative = peek().is("-");
        if (negative) next();
        Token value = next();
        if (value.kind() != Kind.NUMBER) throw error(value.line(), "expected an integer value, found " + value.shown());
        String doc = trailingComment(value.line());
        Token sep = next();
        if (doc == null) doc = trailingComment(sep.line());
        h.constants.add(constant(name.line(), name.text(), (negative ? "-" : "") + value.text(), doc));
        if (sep.is("}")) break;
        if (!sep.is(",")) throw error(sep.line(), "expected ',' or '}', found " + sep.shown());
      }
      expect(";", "';' after the enum");
    }

    private CType type() {
      Token first = next();
      boolean isConst = first.is("const");
      Token base = isConst ? next() : first;
      if (base.kind() != Kind.IDENT) throw error(base.line(), "expected a type, found " + base.shown());
      String name = base.text();
      if (name.equals("const")) throw error(base.line(), "'const const'");
      if (name.equals("struct") || name.equals("enum") || name.equals("unsigned") || name.equals("signed")
          || name.equals("long") || name.equals("short")) {
        throw error(base.line(), "type '" + name + "' is not allowed (use int, int64_t, uint64_t, float, double,"
            + " void, char or a typedef of this header)");
      }
      int pointers = 0;
      while (peek().is("*")) {
        next();
        pointers++;
      }
      if (peek().is("const")) throw error(peek().line(), "'const' after '*' is not allowed");
      boolean known = SCALARS.contains(name) || h.struct(name) != null || h.isOpaque(name);
      boolean pointee = name.equals("void") || name.equals("char");
      if (!known && !(pointee && pointers > 0)) {
        throw error(base.line(), "unknown type '" + name + (pointers > 0 ? "*" : "") + "' (allowed: int, int64_t,"
            + " uint64_t, float, double, pointers to those, void*, char* and the typedefs of this header)");
      }
      return new CType(isConst, name, pointers);
    }

    private void function() {
      Token marker = next();
      String doc = docFor(marker.line());
      Token retToken = peek();
      CType ret = type();
      String name = ident("a function name");
      Config c = h.config;
      if (!name.startsWith(c.prefix) || name.length() == c.prefix.length()) {
        throw error(marker.line(), "function " + name + " must start with " + c.prefix + " (the header's prefix)");
      }
      expect("(", "'(' after the function name");
      List<Param> params = new ArrayList<>();
      if (peek().is("void") && peekSecond().is(")")) {
        next();
        next();
      } else {
        Set<String> names = new HashSet<>();
        while (true) {
          Token pt = peek();
          CType type = type();
          Token pn = next();
          if (pn.kind() != Kind.IDENT) {
            throw error(pn.line(), "expected a parameter name after '" + type.c() + "', found " + pn.shown());
          }
          checkParamType(pt.line(), type);
          checkJavaName(pn.line(), pn.text());
          if (RESERVED_PARAMS.contains(pn.text())) {
            throw error(pn.line(), "parameter name '" + pn.text() + "' is used by the generated wrapper; rename it");
          }
          if (!names.add(pn.text())) throw error(pn.line(), "parameter " + pn.text() + " twice");
          params.add(new Param(type, pn.text()));
          Token sep = next();
          if (sep.is(")")) break;
          if (!sep.is(",")) throw error(sep.line(), "expected ',' or ')', found " + sep.shown());
        }
      }
      expect(";", "';' after the declaration of " + name);
      String rest = name.substring(c.prefix.length());
      boolean lastError = rest.equals("last_error"), abi = rest.equals("abi_version");
      if (lastError && !(ret.c().equals("const char*") && params.isEmpty())) {
        throw error(marker.line(), name + " must be 'const char* " + name + "(void)'");
      }
      if (abi && !(ret.c().equals("int") && params.isEmpty())) {
        throw error(marker.line(), name + " must be 'int " + name + "(void)'");
      }
      if (!lastError && !ret.c().equals("int")) {
        throw error(retToken.line(), name + " returns " + ret.c() + "; every function returns an int status"
            + " (except " + c.prefix + "last_error)");
      }
      String javaName = camel(rest, false);
      for (Function f : h.functions) {
        if (f.cName().equals(name)) throw error(marker.line(), "function " + name + " is declared twice");
        if (camel(f.cName().substring(c.prefix.length()), false).equals(javaName)) {
          throw error(marker.line(), "functions " + f.cName() + " and " + name + " get the same Java name "
              + javaName);
        }
      }
      if (!SourceVersion.isIdentifier(javaName) || SourceVersion.isKeyword(javaName)
          || RESERVED_METHODS.contains(javaName)) {
        throw error(marker.line(), "function " + name + " gives the Java name '" + javaName + "', which is not allowed"
            + " (a keyword or a method of the generated class)");
      }
      h.functions.add(new Function(name, ret, params, doc, marker.line()));
    }

    /** The non-comment token after {@link #peek()}. */
    private Token peekSecond() {
      int p = pos;
      while (tokens.get(p).kind() == Kind.COMMENT) p++;
      p++;
      while (tokens.get(p).kind() == Kind.COMMENT) p++;
      return tokens.get(p);
    }

    private void checkParamType(int line, CType type) {
      Struct s = h.struct(type.base());
      if (s != null && !(type.isConst() && type.pointers() == 1)) {
        throw error(line, "struct " + type.base() + " can only be passed as 'const " + type.base()
            + "*' (an input), found '" + type.c() + "'");
      }
      if (type.pointers() == 0 && !SCALARS.contains(type.base())) {
        throw error(line, "'" + type.c() + "' cannot be passed by value (only int, int64_t, uint64_t, float, double)");
      }
    }

    private void checkJavaName(int line, String cName) {
      String javaName = camel(cName, false);
      if (!SourceVersion.isIdentifier(javaName) || SourceVersion.isKeyword(javaName)) {
        throw error(line, "name '" + cName + "' gives the Java name '" + javaName + "', which is not allowed");
      }
    }
  }

  /** snake_case to camelCase (or PascalCase). */
  static String camel(String snake, boolean upperFirst) {
    StringBuilder out = new StringBuilder();
    boolean up = upperFirst;
    for (char ch : snake.toCharArray()) {
      if (ch == '_') {
        up = out.length() > 0 || upperFirst;
        continue;
      }
      out.append(up ? Character.toUpperCase(ch) : ch);
      up = false;
    }
    return out.toString();
  }

  /** camelCase or snake_case to UPPER_SNAKE_CASE. */
  static String upperSnake(String name) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < name.length(); i++) {
      char ch = name.charAt(i);
      if (Character.isUpperCase(ch) && i > 0 && name.charAt(i - 1) != '_') out.append('_');
      out.append(Character.toUpperCase(ch));
    }
    return out.toString();
  }

  // ------------------------------------------------------------------------------ emitter

  static final class Emitter {
    private final Header h;
    private final Config c;
    private final boolean segments;
    private final StringBuilder out = new StringBuilder();
    private final Set<String> imports = new java.util.TreeSet<>();

    Emitter(Header h) {
      this.h = h;
      this.c = h.config;
      this.segments = !"address".equals(c.pointers);
    }

    String emit() {
      StringBuilder body = new StringBuilder();
      if (h.functions.isEmpty()) constantsClass(body);
      else libraryClass(body);
      out.append("// Generated by tools/bindgen (io.idemnet.bindgen.BindingsGenerator) from ").append(h.fileName)
          .append(".\n// Do not edit: change the header and rebuild.\n");
      out.append("package ").append(c.packageName()).append(";\n\n");
      boolean any = false;
      for (String i : imports) {
        if (i.substring(0, i.lastIndexOf('.')).equals(c.packageName())) continue;
        out.append("import ").append(i).append(";\n");
        any = true;
      }
      if (any) out.append('\n');
      out.append(body);
      return out.toString();
    }

    /** The simple name to use for a class, importing it. */
    private String use(String qualified) {
      imports.add(qualified);
      return qualified.substring(qualified.lastIndexOf('.') + 1);
    }

    private String ownerRef(Header owner) {
      return owner == h ? "" : use(owner.config.javaClass) + ".";
    }

    // ---- class of constants and structs

    private void constantsClass(StringBuilder b) {
      b.append("/**\n * Constants and structs of {@code ").append(h.fileName)
          .append("}, shared by idemnet's native libraries.\n */\n");
      b.append("public final class ").append(c.simpleName()).append(" {\n");
      b.append("  private ").append(c.simpleName()).append("() {}\n");
      for (Constant k : h.constants) {
        b.append('\n');
        javadoc(b, "  ", k.doc() == null ? "{@code " + k.cName() + "}." : k.doc() + " ({@code " + k.cName() + "})",
            List.of());
        b.append("  public static final int ").append(k.javaName()).append(" = ").append(k.value()).append(";\n");
      }
      for (Struct s : h.structs.values()) record(b, s);
      b.append("}\n");
    }

    private void record(StringBuilder b, Struct s) {
      String vl = use("java.lang.foreign.ValueLayout");
      String ml = use("java.lang.foreign.MemoryLayout");
      String seg = use("java.lang.foreign.MemorySegment");
      String sl = use("java.lang.foreign.StructLayout");
      List<String> tags = new ArrayList<>();
      for (Field f : s.fields()) {
        tags.add("@param " + camel(f.name(), false) + " " + (f.doc() == null ? "field {@code " + f.name() + "}" : f.doc()));
      }
      b.append('\n');
      javadoc(b, "  ", (s.doc() == null ? "" : s.doc() + "\n\n") + "<p>The Java mirror of {@code " + s.cName() + "}.",
          tags);
      b.append("  public record ").append(s.javaName()).append('(');
      for (int i = 0; i < s.fields().size(); i++) {
        Field f = s.fields().get(i);
        if (i > 0) b.append(", ");
        b.append(javaScalar(f.type().base())).append(' ').append(camel(f.name(), false));
      }
      b.append(") {\n");
      // Natural alignment, as the C compilers of our platforms lay the struct out.
      List<String> members = new ArrayList<>();
      List<String> writes = new ArrayList<>();
      long offset = 0, maxAlign = 1;
      for (Field f : s.fields()) {
        long size = scalarSize(f.type().base());
        maxAlign = Math.max(maxAlign, size);
        if (offset % size != 0) {
          long pad = size - offset % size;
          members.add(ml + ".paddingLayout(" + pad + ")");
          offset += pad;
        }
        String layout = vl + "." + scalarLayout(f.type().base());
        members.add(layout + ".withName(\"" + f.name() + "\")");
        writes.add("      segment.set(" + layout + ", " + offset + ", " + camel(f.name(), false) + ");");
        offset += size;
      }
      if (offset % maxAlign != 0) members.add(ml + ".paddingLayout(" + (maxAlign - offset % maxAlign) + ")");
      b.append("    /** The C layout of {@code ").append(s.cName()).append("}. */\n");
      b.append("    public static final ").append(sl).append(" LAYOUT = ").append(ml).append(".structLayout(\n");
      for (int i = 0; i < members.size(); i++) {
        b.append("        ").append(members.get(i)).append(i + 1 < members.size() ? ",\n" : ");\n");
      }
      b.append("\n    /**\n     * Writes the fields in C layout.\n     *\n")
          .append("     * @param segment at least {@link #LAYOUT}'s size, aligned as it\n     */\n");
      b.append("    public void writeTo(").append(seg).append(" segment) {\n");
      for (String w : writes) b.append(w).append('\n');
      b.append("    }\n  }\n");
    }

    // ---- library class

    private void libraryClass(StringBuilder b) {
      // Imported once here, so that the templates below can use the simple names.
      for (String type : List.of("java.lang.invoke.MethodHandle", "java.lang.foreign.FunctionDescriptor",
          "java.lang.foreign.Linker", "java.lang.foreign.MemorySegment", "java.lang.foreign.SymbolLookup",
          "java.lang.foreign.ValueLayout", "io.idemnet.nativelib.NativeLibraryException",
          "io.idemnet.nativelib.NativeCallException")) {
        use(type);
      }
      String lib = "lib" + c.library;
      Function lastError = special("last_error"), abi = special("abi_version");
      String abiConstant = abiConstant(abi);
      b.append("""
          /**
           * Downcalls into {@code %1$s}, one per function of {@code %2$s}. Each wrapper
           * calls its function with {@code invokeExact} and turns a non-zero status into a
           * {@link NativeCallException} carrying {@code %3$s()}.
           * %4$s.
           * Loading the class opens the library ({@code %5$s.open()}) and checks its ABI version.
           */
          // Every method here binds or calls native code: the restricted-method lint says nothing new.
          @SuppressWarnings("restricted")
          final class %6$s {
            private %6$s() {}

            private static final Linker LINKER = Linker.nativeLinker();
            private static final SymbolLookup LIBRARY = %5$s.open();

            private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
              MemorySegment symbol = LIBRARY.find(name).orElseThrow(
                  () -> new NativeLibraryException("%1$s has no symbol " + name + " (stale build?)"));
              return LINKER.downcallHandle(symbol, descriptor);
            }

            private static RuntimeException rethrow(Throwable e) {
              if (e instanceof RuntimeException r) return r;
              if (e instanceof Error err) throw err;
              return new IllegalStateException(e);
            }

          """.formatted(lib, h.fileName, lastError.cName(),
          segments ? "Pointers are {@link MemorySegment}s" : "Pointers are addresses ({@code long}): no segment is made"
              + " per call",
          c.loader, c.simpleName()));
      // The version check comes before the other handles, so that a stale library is reported as
      // such rather than as a missing symbol.
      handle(b, lastError);
      handle(b, abi);
      b.append("""

            static {
              int abi = abiVersion();
              if (abi != %2$s) {
                throw new NativeLibraryException("%1$s has ABI version " + abi + ", this jar needs "
                    + %2$s + "; rebuild the native library");
              }
            }

          """.formatted(lib, abiConstant));
      for (Function f : h.functions) {
        if (f != lastError && f != abi) handle(b, f);
      }
      Set<Struct> scratch = new java.util.LinkedHashSet<>();
      for (Function f : h.functions) {
        for (Param p : f.params()) {
          Struct s = h.struct(p.type().base());
          if (s != null) scratch.add(s);
        }
      }
      for (Struct s : scratch) {
        b.append("""

              /** Per-thread native copy of a {@code %1$s} argument. */
              private static final ThreadLocal<MemorySegment> %2$s =
                  ThreadLocal.withInitial(() -> %3$s.ofAuto().allocate(%4$s.LAYOUT));
            """.formatted(s.cName(), scratchName(s), use("java.lang.foreign.Arena"),
            ownerRef(s.owner()) + s.javaName()));
      }
      b.append("""

            /** Loads the library and checks its version (class initialisation); throws if it cannot. */
            static void ensureLoaded() {}

            /** {@code %1$s}: the message of this thread's last failed call. */
            static String lastError() {
              try {
                MemorySegment message = (MemorySegment) %2$s.invokeExact();
                return message.equals(MemorySegment.NULL) ? "(no message)"
                    : message.reinterpret(Long.MAX_VALUE).getString(0);
              } catch (Throwable e) {
                return "(could not read %3$s: " + e + ")";
              }
            }

            /** {@code %4$s}. */
            static int abiVersion() {
              try {
                return (int) %5$s.invokeExact();
              } catch (Throwable e) {
                throw rethrow(e);
              }
            }
          """.formatted(decl(lastError), handleName(lastError), lastError.cName(), decl(abi), handleName(abi)));
      for (Function f : h.functions) {
        if (f != lastError && f != abi) wrapper(b, f);
      }
      b.append("}\n");
    }

    private Function special(String name) {
      for (Function f : h.functions) {
        if (f.cName().equals(c.prefix + name)) return f;
      }
      throw new AssertionError(name);
    }

    private String abiConstant(Function abi) {
      for (Header v : h.visible()) {
        for (Constant k : v.constants) {
          if (k.javaName().equals("ABI_VERSION")) return ownerRef(v) + "ABI_VERSION";
        }
      }
      throw new HeaderException(h.display, abi.line(), "no <PREFIX>ABI_VERSION constant is visible here to check "
          + abi.cName() + " against (define it or #include the header that does)");
    }

    private String handleName(Function f) {
      return f.cName().substring(c.prefix.length()).toUpperCase(Locale.ROOT) + "_HANDLE";
    }

    private static String scratchName(Struct s) {
      return upperSnake(s.javaName()) + "_SCRATCH";
    }

    private void handle(StringBuilder b, Function f) {
      List<String> layouts = new ArrayList<>();
      layouts.add(f.returns().pointers() > 0 ? "ValueLayout.ADDRESS" : "ValueLayout.JAVA_INT");
      for (Param p : f.params()) layouts.add(layout(p.type()));
      b.append("  private static final MethodHandle ").append(handleName(f)).append(" = downcall(\"")
          .append(f.cName()).append("\",\n      FunctionDescriptor.of(");
      int column = 28;
      for (int i = 0; i < layouts.size(); i++) {
        String item = layouts.get(i) + (i + 1 < layouts.size() ? "," : "));\n");
        if (i > 0 && column + 1 + item.length() > 110) {
          b.append("\n          ");
          column = 10;
        } else if (i > 0) {
          b.append(' ');
          column++;
        }
        b.append(item);
        column += item.length();
      }
    }

    private String layout(CType t) {
      if (t.pointers() > 0) return segments ? "ValueLayout.ADDRESS" : "ValueLayout.JAVA_LONG";
      return "ValueLayout." + scalarLayout(t.base());
    }

    private String javaType(CType t) {
      Struct s = h.struct(t.base());
      if (s != null) return ownerRef(s.owner()) + s.javaName();
      if (t.pointers() > 0) return segments ? "MemorySegment" : "long";
      return javaScalar(t.base());
    }

    private void wrapper(StringBuilder b, Function f) {
      String name = camel(f.cName().substring(c.prefix.length()), false);
      b.append('\n');
      String code = "C: {@code " + decl(f) + "}";
      javadoc(b, "  ", f.doc() == null ? code : f.doc() + "\n\n<p>" + code, List.of());
      List<String> params = new ArrayList<>(), args = new ArrayList<>();
      StringBuilder prologue = new StringBuilder();
      for (Param p : f.params()) {
        String pn = camel(p.name(), false);
        params.add(javaType(p.type()) + " " + pn);
        Struct s = h.struct(p.type().base());
        if (s == null) {
          args.add(pn);
          continue;
        }
        // A struct input: the record is written into this thread's native copy for the call.
        String copy = pn + "Native";
        prologue.append("    MemorySegment ").append(copy).append(" = ").append(scratchName(s)).append(".get();\n")
            .append("    ").append(pn).append(".writeTo(").append(copy).append(");\n");
        args.add(segments ? copy : copy + ".address()");
      }
      b.append(wrapped("  static void " + name + "(", params, ") {", "      ")).append('\n')
          .append(prologue)
          .append("""
                int status;
                try {
                  %1$s
                } catch (Throwable failure) {
                  throw rethrow(failure);
                }
                if (status != 0) throw new NativeCallException("%2$s", status, lastError());
              }
            """.formatted(wrapped("status = (int) " + handleName(f) + ".invokeExact(", args, ");", "          ").strip(),
                f.cName()));
    }

    /** {@code open + items joined by ", " + close}, broken before an item that would pass column 110. */
    private static String wrapped(String open, List<String> items, String close, String continuation) {
      StringBuilder out = new StringBuilder(open);
      int column = open.length();
      for (int i = 0; i < items.size(); i++) {
        String item = items.get(i) + (i + 1 < items.size() ? "," : close);
        if (i > 0 && column + 1 + item.length() > 110) {
          out.append('\n').append(continuation);
          column = continuation.length();
        } else if (i > 0) {
          out.append(' ');
          column++;
        }
        out.append(item);
        column += item.length();
      }
      if (items.isEmpty()) out.append(close);
      return out.toString();
    }

    private static String decl(Function f) {
      StringBuilder s = new StringBuilder(f.returns().c()).append(' ').append(f.cName()).append('(');
      if (f.params().isEmpty()) s.append("void");
      for (int i = 0; i < f.params().size(); i++) {
        if (i > 0) s.append(", ");
        s.append(f.params().get(i).type().c()).append(' ').append(f.params().get(i).name());
      }
      return s.append(')').toString();
    }
  }

  static String javaScalar(String c) {
    return switch (c) {
      case "int" -> "int";
      case "int64_t", "uint64_t" -> "long";
      case "float" -> "float";
      case "double" -> "double";
      default -> throw new AssertionError(c);
    };
  }

  static String scalarLayout(String c) {
    return switch (c) {
      case "int" -> "JAVA_INT";
      case "int64_t", "uint64_t" -> "JAVA_LONG";
      case "float" -> "JAVA_FLOAT";
      case "double" -> "JAVA_DOUBLE";
      default -> throw new AssertionError(c);
    };
  }

  static long scalarSize(String c) {
    return switch (c) {
      case "int", "float" -> 4;
      case "int64_t", "uint64_t", "double" -> 8;
      default -> throw new AssertionError(c);
    };
  }

  /** Writes a Javadoc comment: the text (HTML-escaped; blank lines become paragraphs) and tags. */
  static void javadoc(StringBuilder b, String indent, String text, List<String> tags) {
    List<String> lines = new ArrayList<>();
    for (String l : text.split("\n", -1)) lines.add(l.startsWith("<p>") ? "<p>" + escape(l.substring(3)) : escape(l));
    if (!tags.isEmpty()) {
      lines.add("");
      for (String t : tags) lines.add(t.startsWith("@") ? "@" + escape(t.substring(1)) : escape(t));
    }
    if (lines.size() == 1) {
      b.append(indent).append("/** ").append(lines.get(0)).append(" */\n");
      return;
    }
    b.append(indent).append("/**\n");
    for (String l : lines) b.append(indent).append(l.isEmpty() ? " *" : " * " + l).append('\n');
    b.append(indent).append(" */\n");
  }

  /** Text for Javadoc: HTML special characters and '@' escaped, {@code ...} tags kept. */
  static String escape(String s) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < s.length()) {
      if (s.startsWith("{@code ", i) || s.startsWith("{@link ", i)) {
        int depth = 0, j = i;
        for (; j < s.length(); j++) {
          if (s.charAt(j) == '{') depth++;
          if (s.charAt(j) == '}' && --depth == 0) break;
        }
        if (j < s.length()) {
          out.append(s, i, j + 1);
          i = j + 1;
          continue;
        }
      }
      char ch = s.charAt(i++);
      switch (ch) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '@' -> out.append("&#64;");
        case '/' -> out.append(i >= 2 && s.charAt(i - 2) == '*' ? "&#47;" : "/");
        default -> out.append(ch);
      }
    }
    return out.toString();
  }
}
