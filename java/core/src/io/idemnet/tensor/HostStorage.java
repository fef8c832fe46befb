package io.idemnet.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Off-heap host memory in a shared {@link Arena}: 64-byte aligned, zero-initialised. After
 * {@link #close()} any access, including a native call that receives the segment, throws
 * {@link IllegalStateException} instead of touching freed memory.
 */
public final class HostStorage implements Storage {
  private final Arena arena;
  private final MemorySegment segment;

  /** {@code numel} zeroed floats, 64-byte aligned, in an arena of their own. */
  public HostStorage(long numel) {
    this.arena = Arena.ofShared();
    this.segment = arena.allocate(Math.max(1, numel) * Float.BYTES, 64).asSlice(0, numel * Float.BYTES);
  }

  /** The memory (its scope ends at {@link #close()}). */
  public MemorySegment segment() {
    return segment;
  }

  /** Element {@code i}. */
  public float get(long i) {
    return segment.getAtIndex(ValueLayout.JAVA_FLOAT, i);
  }

  /** Sets element {@code i}. */
  public void set(long i, float v) {
    segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
  }

  @Override
  public void close() {
    if (arena.scope().isAlive()) arena.close();
  }
}
