package io.idemnet.backend.cuda;

import io.idemnet.tensor.Storage;

/**
 * Device memory from a {@link CudaBackend}'s caching allocator. {@link #close()} hands the block
 * back to the allocator (no cudaFree); while a CUDA graph is being captured the hand-back waits
 * until the graph is closed, because the graph may still refer to the block.
 */
public final class DeviceStorage implements Storage {
  private final CudaBackend owner;
  private final long address;
  private final long bytes;
  private boolean closed;

  DeviceStorage(CudaBackend owner, long address, long bytes) {
    this.owner = owner;
    this.address = address;
    this.bytes = bytes;
  }

  /** The device address (valid until close). */
  public long address() {
    return address;
  }

  /** The size of the device block in bytes. */
  public long bytes() {
    return bytes;
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    owner.release(address);
  }
}
