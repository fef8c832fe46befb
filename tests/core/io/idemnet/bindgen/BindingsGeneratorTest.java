package io.idemnet.bindgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.bindgen.BindingsGenerator.HeaderException;
import io.idemnet.bindgen.BindingsGenerator.HeaderSource;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The bindings generator on small header snippets: what it writes for each kind of declaration
 * (and that it compiles, and that a generated struct layout matches C's), and that a declaration
 * outside the style rules stops it with file:line.
 */
class BindingsGeneratorTest {

  /** Shared part: constants, an enum and a struct whose int field needs padding before a double. */
  static final String COMMON = """
      /* bindgen: class=bg.snip.SnipAbi prefix=snip_ */
      #ifndef SNIP_COMMON_H
      #define SNIP_COMMON_H
      #include <stdint.h>
      #define IDEMNET_API __attribute__((visibility("default")))
      /* The version. */
      #define SNIP_ABI_VERSION 7
      #define SNIP_OK 0 /* fine */
      enum snip_mode {
        SNIP_FAST = 1, /* quick */
        SNIP_SLOW = 2  /* careful */
      };
      /* Where to work. */
      typedef struct snip_box {
        int64_t n;  /* items */
        int c;      /* channels */
        double d;   /* a double after an int: 4 bytes of padding */
      } snip_box;
      #endif
      """;

  /** A library header: context first, a struct input, out-pointers, the two special functions. */
  static final String LIBRARY = """
      /* bindgen: class=bg.snip.SnipNative library=snip prefix=snip_ pointers=%s loader=SnipLoader */
      #include "snip_common.h"
      #ifdef __cplusplus
      extern "C" {
      #endif
      typedef struct snip_context snip_context;
      IDEMNET_API const char* snip_last_error(void);
      IDEMNET_API int snip_abi_version(void);
      /* out = alpha x, on ctx's threads. */
      IDEMNET_API int snip_scale(snip_context* ctx, const float* x, float alpha, float* out,
                                 int64_t n);
      IDEMNET_API int snip_work(snip_context* ctx, const snip_box* box, uint64_t seed, double* result);
      #ifdef __cplusplus
      }
      #endif
      """;

  static List<HeaderSource> snippet(String pointers) {
    return List.of(new HeaderSource("snip_common.h", "snippet/snip_common.h", COMMON),
        new HeaderSource("snip.h", "snippet/snip.h", LIBRARY.formatted(pointers)));
  }

  @Test
  void segmentModeWrapsEveryFunction() {
    Map<String, String> out = BindingsGenerator.generate(snippet("segment"));
    assertEquals(List.of("bg/snip/SnipAbi.java", "bg/snip/SnipNative.java"), List.copyOf(out.keySet()));
    // Compared with line breaks folded: the generator wraps long lines.
    String lib = flat(out.get("bg/snip/SnipNative.java"));
    assertTrue(lib.contains("private static final SymbolLookup LIBRARY = SnipLoader.open();"), lib);
    assertTrue(lib.contains("static void scale(MemorySegment ctx, MemorySegment x, float alpha, MemorySegment out, long n)"),
        lib);
    assertTrue(lib.contains("status = (int) SCALE_HANDLE.invokeExact(ctx, x, alpha, out, n);"), lib);
    assertTrue(lib.contains("throw new NativeCallException(\"snip_scale\", status, lastError());"), lib);
    assertTrue(lib.contains("FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,"
        + " ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG)"), lib);
    // A struct input is the record, copied into per-thread native memory for the call.
    assertTrue(lib.contains("static void work(MemorySegment ctx, SnipAbi.Box box, long seed, MemorySegment result)"),
        lib);
    assertTrue(lib.contains("box.writeTo(boxNative);"), lib);
    assertTrue(lib.contains("WORK_HANDLE.invokeExact(ctx, boxNative, seed, result)"), lib);
    // The version check names the shared constant; the header comment is the Javadoc.
    assertTrue(lib.contains("if (abi != SnipAbi.ABI_VERSION)"), lib);
    assertTrue(lib.contains("out = alpha x, on ctx's threads."), lib);

    String abi = flat(out.get("bg/snip/SnipAbi.java"));
    assertTrue(abi.contains("public static final int ABI_VERSION = 7;"), abi);
    assertTrue(abi.contains("public static final int SLOW = 2;"), abi);
    assertTrue(abi.contains("/** careful ({@code SNIP_SLOW}) */"), abi);
    assertTrue(abi.contains("public record Box(long n, int c, double d)"), abi);
  }

  @Test
  void addressModePassesPointersAsLongs() {
    String lib = flat(BindingsGenerator.generate(snippet("address")).get("bg/snip/SnipNative.java"));
    assertTrue(lib.contains("static void scale(long ctx, long x, float alpha, long out, long n)"), lib);
    assertTrue(lib.contains("WORK_HANDLE.invokeExact(ctx, boxNative.address(), seed, result)"), lib);
    assertFalse(lib.contains("ValueLayout.ADDRESS, ValueLayout"), "only last_error returns an ADDRESS: " + lib);
  }

  /** Both modes compile (together, one javac run), and the struct record writes C's layout. */
  @Test
  void generatedCodeCompilesAndStructMatchesCLayout(@TempDir Path dir) throws Exception {
    Path src = dir.resolve("src"), classes = dir.resolve("classes");
    BindingsGenerator.write(src, BindingsGenerator.generate(List.of(
        new HeaderSource("snip_common.h", "snip_common.h", COMMON),
        new HeaderSource("snip.h", "snip.h", LIBRARY.formatted("segment")),
        new HeaderSource("snip_address.h", "snip_address.h", LIBRARY.formatted("address")
            .replace("class=bg.snip.SnipNative", "class=bg.snip.SnipAddressNative")))));
    Path loader = src.resolve("bg/snip/SnipLoader.java");
    Files.writeString(loader, "package bg.snip;\nfinal class SnipLoader {\n"
        + "  static java.lang.foreign.SymbolLookup open() { throw new IllegalStateException(); }\n}\n");
    compile(List.of(src.resolve("bg/snip/SnipAbi.java"), src.resolve("bg/snip/SnipNative.java"),
        src.resolve("bg/snip/SnipAddressNative.java"), loader), classes);
    try (URLClassLoader cl = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
      Class<?> box = cl.loadClass("bg.snip.SnipAbi$Box");
      StructLayout layout = (StructLayout) box.getField("LAYOUT").get(null);
      // C: int64_t at 0, int at 8, 4 bytes of padding, double at 16; 24 bytes.
      assertEquals(24, layout.byteSize());
      assertEquals(8, layout.byteOffset(MemoryLayout.PathElement.groupElement("c")));
      assertEquals(16, layout.byteOffset(MemoryLayout.PathElement.groupElement("d")));
      Object value = box.getConstructor(long.class, int.class, double.class).newInstance(5L, 3, 2.5);
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment seg = arena.allocate(layout);
        box.getMethod("writeTo", MemorySegment.class).invoke(value, seg);
        assertEquals(5L, seg.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(3, seg.get(ValueLayout.JAVA_INT, 8));
        assertEquals(2.5, seg.get(ValueLayout.JAVA_DOUBLE, 16));
      }
    }
  }

  private static void compile(List<Path> sources, Path classes) throws Exception {
    Files.createDirectories(classes);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
      // The generated code needs only io.idemnet.nativelib (the exceptions) besides the JDK.
      String nativelib = Path.of(io.idemnet.nativelib.NativeCallException.class.getProtectionDomain().getCodeSource()
          .getLocation().toURI()).toString();
      List<String> options = List.of("-d", classes.toString(), "-classpath", nativelib, "-Xlint:all", "-Werror");
      boolean ok = javac.getTask(null, files, diagnostics, options, null, files.getJavaFileObjectsFromPaths(sources))
          .call();
      assertTrue(ok, "generated code does not compile: " + diagnostics.getDiagnostics());
    }
  }

  /**
   * Each malformed declaration, put at line 4 of the library header (after the bindgen line, the
   * include and the context typedef), is rejected with that file:line and the reason.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "IDEMNET_API int snip_bad(size_t n);                 | unknown type 'size_t'",
      "IDEMNET_API int snip_bad(float*);                    | expected a parameter name after 'float*'",
      "IDEMNET_API float snip_bad(int n);                   | returns float; every function returns an int status",
      "IDEMNET_API int other_bad(int n);                    | must start with snip_",
      "IDEMNET_API int snip_bad(snip_box* box);             | can only be passed as 'const snip_box*'",
      "IDEMNET_API int snip_bad(unsigned n);                | type 'unsigned' is not allowed",
      "IDEMNET_API int snip_bad(int n) IDEMNET_API          | expected ';' after the declaration of snip_bad",
      "IDEMNET_API int snip_bad(int default);               | gives the Java name 'default'",
      "int snip_bad(int n);                                 | expected a declaration",
      "#define SNIP_HALF 0.5                                | the value must be an integer literal",
      "#define OTHER_ONE 1                                  | must start with SNIP_",
      "#pragma once                                         | unsupported directive '#pragma'",
      "IDEMNET_API int snip_bad(snip_context ctx);          | cannot be passed by value",
  })
  void malformedDeclarationIsRejectedWithFileAndLine(String declaration, String reason) {
    String header = "/* bindgen: class=bg.snip.SnipNative library=snip prefix=snip_ pointers=segment loader=L */\n"
        + "#include \"snip_common.h\"\n"
        + "typedef struct snip_context snip_context;\n"
        + declaration.strip() + "\n"
        + "IDEMNET_API const char* snip_last_error(void);\n"
        + "IDEMNET_API int snip_abi_version(void);\n";
    HeaderException e = assertThrows(HeaderException.class, () -> BindingsGenerator.generate(List.of(
        new HeaderSource("snip_common.h", "snippet/snip_common.h", COMMON),
        new HeaderSource("snip.h", "snippet/snip.h", header))));
    assertTrue(e.getMessage().startsWith("snippet/snip.h:4: "), e.getMessage());
    assertTrue(e.getMessage().contains(reason.strip()), e.getMessage());
  }

  /** The command line: a malformed header fails with status 1 and file:line on stderr, writing nothing. */
  @Test
  void commandLineFailsLoudly(@TempDir Path dir) throws Exception {
    Path headers = Files.createDirectories(dir.resolve("include"));
    Files.writeString(headers.resolve("snip_common.h"), COMMON);
    Files.writeString(headers.resolve("snip.h"), LIBRARY.formatted("segment")
        .replace("uint64_t seed", "long seed"));
    Path out = dir.resolve("out");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = BindingsGenerator.run(new String[] {out.toString(), headers.toString()},
        new PrintStream(err, true, StandardCharsets.UTF_8));
    String message = err.toString(StandardCharsets.UTF_8);
    assertEquals(1, status, message);
    int line = lineOf(LIBRARY, "snip_work");
    assertTrue(message.startsWith("bindgen: " + headers.resolve("snip.h") + ":" + line + ": "), message);
    assertTrue(message.contains("type 'long' is not allowed"), message);
    assertFalse(Files.exists(out), "nothing is written when a header is rejected");

    // Fixed, the same command writes both classes; a second run leaves them untouched.
    Files.writeString(headers.resolve("snip.h"), LIBRARY.formatted("segment"));
    assertEquals(0, BindingsGenerator.run(new String[] {out.toString(), headers.toString()}, System.err));
    Path lib = out.resolve("bg/snip/SnipNative.java");
    assertTrue(Files.isRegularFile(lib) && Files.isRegularFile(out.resolve("bg/snip/SnipAbi.java")));
    var written = Files.getLastModifiedTime(lib);
    Thread.sleep(20);
    assertEquals(0, BindingsGenerator.run(new String[] {out.toString(), headers.toString()}, System.err));
    assertEquals(written, Files.getLastModifiedTime(lib), "an unchanged file is not rewritten");
  }

  /** Struct, include and special-function rules that span declarations. */
  @Test
  void headerLevelRulesAreChecked() {
    List<String> errors = new ArrayList<>();
    String noLastError = LIBRARY.formatted("segment").replace("IDEMNET_API const char* snip_last_error(void);\n", "");
    String badInclude = LIBRARY.formatted("segment").replace("snip_common.h", "missing.h");
    String noConfig = LIBRARY.formatted("segment").replaceFirst("/\\* bindgen:[^*]*\\*/", "/* no config */");
    for (String text : List.of(noLastError, badInclude, noConfig)) {
      HeaderException e = assertThrows(HeaderException.class, () -> BindingsGenerator.generate(List.of(
          new HeaderSource("snip_common.h", "snippet/snip_common.h", COMMON),
          new HeaderSource("snip.h", "snippet/snip.h", text))));
      errors.add(e.getMessage());
    }
    assertTrue(errors.get(0).startsWith("snippet/snip.h:1: ") && errors.get(0).contains("must declare snip_last_error"),
        errors.get(0));
    assertTrue(errors.get(1).startsWith("snippet/snip.h:2: ") && errors.get(1).contains("missing.h"), errors.get(1));
    assertTrue(errors.get(2).contains("no '/* bindgen:"), errors.get(2));
  }

  private static String flat(String source) {
    return source.replaceAll("\\s+", " ");
  }

  private static int lineOf(String text, String needle) {
    String[] lines = text.split("\n");
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].contains(needle)) return i + 1;
    }
    throw new AssertionError(needle);
  }
}
