package io.idemnet.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The dependency rule between tensors and backends: {@code io.idemnet.backend} uses
 * {@code io.idemnet.tensor}, never the other way round (a tensor knows its creator only as a
 * {@link TensorOwner}). Checked on the compiled classes (every class, field, method and
 * descriptor a class file names sits in its constant pool) and on the sources (imports, fully
 * qualified names, doc references).
 */
class TensorPackageDependencyTest {
  private static final String FORBIDDEN = "io/idemnet/backend/";

  @Test
  void noClassOfTheTensorPackageReferencesTheBackendPackage() throws IOException, URISyntaxException {
    List<String> offenders = new ArrayList<>();
    int classes = 0;
    Path location = Path.of(Tensor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (Files.isDirectory(location)) {
      Path dir = location.resolve("io/idemnet/tensor");
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
          classes++;
          check(f.getFileName().toString(), Files.readAllBytes(f), offenders);
        }
      }
    } else {
      try (ZipFile jar = new ZipFile(location.toFile())) {
        for (ZipEntry e : jar.stream().filter(e -> e.getName().startsWith("io/idemnet/tensor/")
            && e.getName().endsWith(".class") && e.getName().indexOf('/', "io/idemnet/tensor/".length()) < 0).toList()) {
          classes++;
          try (InputStream in = jar.getInputStream(e)) {
            check(e.getName(), in.readAllBytes(), offenders);
          }
        }
      }
    }
    assertTrue(classes >= 4, "found the tensor package's classes in " + location + ": " + classes);
    assertEquals(List.of(), offenders);
  }

  @Test
  void noSourceOfTheTensorPackageNamesTheBackendPackage() throws IOException {
    List<String> offenders = new ArrayList<>();
    List<Path> sources;
    try (Stream<Path> s = Files.list(Path.of("java/core/src/io/idemnet/tensor"))) {
      sources = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    assertTrue(sources.size() >= 4, "found the tensor package's sources: " + sources);
    for (Path f : sources) {
      List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).contains("io.idemnet.backend")) offenders.add(f.getFileName() + ":" + (i + 1) + ": " + lines.get(i).strip());
      }
    }
    assertEquals(List.of(), offenders);
  }

  /** The checker itself: a class file that names the backend package is caught. */
  @Test
  void theClassFileCheckFindsAReference() throws IOException {
    List<String> offenders = new ArrayList<>();
    try (InputStream in = io.idemnet.backend.Backend.class.getResourceAsStream("Backend.class")) {
      check("Backend.class", in.readAllBytes(), offenders);
    }
    assertTrue(offenders.stream().anyMatch(s -> s.contains("io/idemnet/backend/Backend")), offenders.toString());
  }

  /** Adds every UTF-8 constant of the class file that names a class of the backend package. */
  private static void check(String name, byte[] classFile, List<String> offenders) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
    if (in.readInt() != 0xCAFEBABE) throw new IOException(name + " is not a class file");
    in.readUnsignedShort(); // minor version
    in.readUnsignedShort(); // major version
    int count = in.readUnsignedShort();
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> { // Utf8: class names, descriptors, signatures
          String s = in.readUTF();
          if (s.contains(FORBIDDEN)) offenders.add(name + ": " + s);
        }
        case 3, 4 -> in.skipBytes(4); // Integer, Float
        case 5, 6 -> { // Long, Double take two entries
          in.skipBytes(8);
          i++;
        }
        case 7, 8, 16, 19, 20 -> in.skipBytes(2); // Class, String, MethodType, Module, Package
        case 9, 10, 11, 12, 17, 18 -> in.skipBytes(4); // refs, NameAndType, Dynamic, InvokeDynamic
        case 15 -> in.skipBytes(3); // MethodHandle
        default -> throw new IOException(name + ": unknown constant pool tag " + tag + " at entry " + i);
      }
    }
  }
}
