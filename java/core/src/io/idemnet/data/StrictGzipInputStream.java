package io.idemnet.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decompresses a gzip file (RFC 1952) and accepts nothing else: one or more complete members
 * (each header, deflate data, CRC-32 and length checked), then the end of the input. Unlike
 * {@link java.util.zip.GZIPInputStream}, which silently drops bytes after the last member that do
 * not form a gzip header, anything after the last member is a {@link TrailingDataException}.
 * Truncation is an {@link EOFException}; a corrupt header, deflate stream or trailer a
 * {@link ZipException}.
 */
final class StrictGzipInputStream extends InputStream {
  /** Bytes after the last gzip member that do not start another one. */
  static final class TrailingDataException extends ZipException {
    TrailingDataException(String message) {
      super(message);
    }
  }

  private static final int FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16, RESERVED = 0xE0;

  private final PushbackInputStream in;
  private final Inflater inflater = new Inflater(true);
  private final CRC32 crc = new CRC32();
  private final byte[] buf = new byte[1 << 16];
  private final byte[] one = new byte[1];
  private int filled;
  private long memberLength;
  private boolean ended;

  /** Reads the first member's header. */
  StrictGzipInputStream(InputStream raw) throws IOException {
    this.in = new PushbackInputStream(raw, buf.length);
    try {
      readHeader();
    } catch (IOException e) {
      inflater.end();
      throw e;
    }
  }

  @Override
  public int read() throws IOException {
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) return 0;
    while (!ended) {
      int n;
      try {
        n = inflater.inflate(b, off, len);
      } catch (DataFormatException e) {
        throw new ZipException("corrupt deflate data: " + e.getMessage());
      }
      if (n > 0) {
        crc.update(b, off, n);
        memberLength += n;
        return n;
      }
      if (inflater.finished()) {
        endMember();
      } else if (inflater.needsDictionary()) {
        throw new ZipException("deflate data asks for a preset dictionary, which gzip does not use");
      } else if (inflater.needsInput()) {
        filled = in.read(buf, 0, buf.length);
        if (filled < 0) throw new EOFException("the input ends inside the deflate data");
        inflater.setInput(buf, 0, filled);
      }
    }
    return -1;
  }

  /** Checks the member's trailer, then expects either the end of the input or another member. */
  private void endMember() throws IOException {
    int unused = inflater.getRemaining();
    if (unused > 0) in.unread(buf, filled - unused, unused);
    long storedCrc = readIntLe(), storedLength = readIntLe();
    if (storedCrc != crc.getValue()) {
      throw new ZipException(String.format("CRC-32 mismatch: the trailer says %08x, the data gives %08x", storedCrc,
          crc.getValue()));
    }
    if (storedLength != (memberLength & 0xFFFFFFFFL)) {
      throw new ZipException("length mismatch: the trailer says " + storedLength + " bytes (mod 2^32), the data has "
          + memberLength);
    }
    int next = in.read();
    if (next < 0) {
      ended = true;
      return;
    }
    int second = in.read();
    if (next != 0x1f || second != 0x8b) {
      long count = 1 + (second < 0 ? 0 : 1 + in.transferTo(java.io.OutputStream.nullOutputStream()));
      throw new TrailingDataException(count + (count == 1 ? " byte follows" : " bytes follow")
          + " the end of the gzip data and do not start another gzip member");
    }
    in.unread(second);
    in.unread(next);
    inflater.reset();
    crc.reset();
    memberLength = 0;
    readHeader();
  }

  private void readHeader() throws IOException {
    if (readByte() != 0x1f || readByte() != 0x8b) throw new ZipException("not a gzip member (magic bytes 1f 8b expected)");
    int method = readByte();
    if (method != 8) throw new ZipException("unknown compression method " + method + " (gzip uses 8, deflate)");
    int flags = readByte();
    if ((flags & RESERVED) != 0) throw new ZipException(String.format("reserved header flags set: 0x%02x", flags));
    for (int i = 0; i < 6; i++) readByte(); // modification time, extra flags, operating system
    if ((flags & FEXTRA) != 0) {
      int length = readByte() | readByte() << 8;
      for (int i = 0; i < length; i++) readByte();
    }
    if ((flags & FNAME) != 0) skipZeroTerminated();
    if ((flags & FCOMMENT) != 0) skipZeroTerminated();
    if ((flags & FHCRC) != 0) {
      readByte();
      readByte();
    }
  }

  private void skipZeroTerminated() throws IOException {
    while (readByte() != 0) {
      // a file name or comment: not needed
    }
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) throw new EOFException("the input ends inside a gzip header or trailer");
    return b;
  }

  private long readIntLe() throws IOException {
    return (long) readByte() | (long) readByte() << 8 | (long) readByte() << 16 | (long) readByte() << 24;
  }

  /** Frees the inflater without closing the underlying stream. */
  void end() {
    inflater.end();
  }

  @Override
  public void close() throws IOException {
    end();
    in.close();
  }
}
