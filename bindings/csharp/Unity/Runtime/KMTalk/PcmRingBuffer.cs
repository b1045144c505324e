// SPDX-License-Identifier: MIT
using System;
using System.Threading;

namespace KMTalk
{
    /// <summary>
    /// A lock-free single-producer single-consumer queue of float samples: one thread
    /// writes (say Unity's audio thread in OnAudioFilterRead), one other thread reads (the
    /// main thread, which pushes the samples into a <see cref="Session"/>). Neither side
    /// blocks or allocates. When the reader falls behind by the whole capacity, the newest
    /// samples are dropped and counted in <see cref="DroppedSamples"/>. With more than one
    /// writer or more than one reader, callers must serialise each side themselves.
    /// </summary>
    public sealed class PcmRingBuffer
    {
        private readonly float[] buffer;
        private long written;   // samples written so far; only the producer stores it
        private long read;      // samples read so far; only the consumer stores it
        private long dropped;

        /// <summary>A queue holding up to <paramref name="capacity"/> samples.</summary>
        public PcmRingBuffer(int capacity)
        {
            if (capacity <= 0) throw new ArgumentOutOfRangeException("capacity");
            buffer = new float[capacity];
        }

        /// <summary>The most samples the queue holds.</summary>
        public int Capacity { get { return buffer.Length; } }

        /// <summary>Samples waiting to be read (a snapshot).</summary>
        public int Count { get { return (int)(Volatile.Read(ref written) - Volatile.Read(ref read)); } }

        /// <summary>Samples dropped so far because the queue was full.</summary>
        public long DroppedSamples { get { return Interlocked.Read(ref dropped); } }

        /// <summary>Producer side: appends as many samples as fit and returns how many.</summary>
        public int Write(ReadOnlySpan<float> samples)
        {
            long w = written;  // this thread is the only writer of `written`
            long free = buffer.Length - (w - Volatile.Read(ref read));
            int n = (int)Math.Min(free, samples.Length);
            int start = (int)(w % buffer.Length);
            int first = Math.Min(n, buffer.Length - start);
            samples.Slice(0, first).CopyTo(new Span<float>(buffer, start, first));
            samples.Slice(first, n - first).CopyTo(new Span<float>(buffer, 0, n - first));
            Volatile.Write(ref written, w + n);   // publishes the copied samples
            if (n < samples.Length) Interlocked.Add(ref dropped, samples.Length - n);
            return n;
        }

        /// <summary>Producer side: appends all of <paramref name="samples"/>, or nothing when they
        /// do not all fit (then they count as dropped). Keeps interleaved frames whole.</summary>
        public bool TryWriteAll(ReadOnlySpan<float> samples)
        {
            long free = buffer.Length - (written - Volatile.Read(ref read));
            if (samples.Length > free)
            {
                Interlocked.Add(ref dropped, samples.Length);
                return false;
            }
            Write(samples);
            return true;
        }

        /// <summary>Producer side: appends <paramref name="count"/> samples of an array.</summary>
        public int Write(float[] samples, int count)
        {
            if (samples == null) throw new ArgumentNullException("samples");
            return Write(new ReadOnlySpan<float>(samples, 0, count));
        }

        /// <summary>Consumer side: moves up to destination.Length samples out, oldest first,
        /// and returns how many.</summary>
        public int Read(Span<float> destination)
        {
            long r = read;  // this thread is the only writer of `read`
            long available = Volatile.Read(ref written) - r;
            int n = (int)Math.Min(available, destination.Length);
            int start = (int)(r % buffer.Length);
            int first = Math.Min(n, buffer.Length - start);
            new ReadOnlySpan<float>(buffer, start, first).CopyTo(destination);
            new ReadOnlySpan<float>(buffer, 0, n - first).CopyTo(destination.Slice(first));
            Volatile.Write(ref read, r + n);      // hands the space back to the producer
            return n;
        }

        /// <summary>Consumer side: discards every waiting sample.</summary>
        public void Clear() { Volatile.Write(ref read, Volatile.Read(ref written)); }
    }
}
