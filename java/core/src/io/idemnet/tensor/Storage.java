package io.idemnet.tensor;

/**
 * The memory behind a tensor, owned by the backend that allocated it. Host backends hand out
 * {@link HostStorage}; a device backend has its own kind.
 */
public interface Storage extends AutoCloseable {
  /** Frees the memory; idempotent. */
  @Override
  void close();
}
