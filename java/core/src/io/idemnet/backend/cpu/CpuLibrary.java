package io.idemnet.backend.cpu;

import io.idemnet.nativelib.NativeLibraries;
import io.idemnet.nativelib.NativeLibraryException;
import java.lang.foreign.SymbolLookup;

/** Opens {@code libidemnet_cpu} for the generated {@link CpuNative} (its {@code loader}). */
final class CpuLibrary {
  private CpuLibrary() {}

  static SymbolLookup open() {
    // libgomp (loaded with our library) reads OMP_WAIT_POLICY once, when it is loaded. By default
    // its threads spin after each parallel region and take the cores that OpenBLAS's threads need
    // for the next GEMM: B2's MB step ran 5x slower. PASSIVE makes them sleep instead. A value the
    // user set is kept.
    NativeLibraries.setEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE", false);
    // Our library names libopenblas.so.0 as a dependency; loading JavaCPP's copy first lets the
    // dynamic linker resolve it by soname, with no system BLAS.
    try {
      org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
    } catch (Throwable e) {
      throw new NativeLibraryException("cannot load OpenBLAS from org.bytedeco:openblas (" + e + ")", e);
    }
    return NativeLibraries.load("idemnet_cpu");
  }
}
