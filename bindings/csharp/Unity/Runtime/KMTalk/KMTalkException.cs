// SPDX-License-Identifier: MIT
using System;

namespace KMTalk
{
    /// <summary>
    /// A KMTalk call failed: the <see cref="Status"/> the C function returned and the
    /// <c>kmt_last_error()</c> text (<see cref="Detail"/>), read on the failing thread right
    /// after the call, before any other KMTalk call. <see cref="Exception.Message"/> reads
    /// "kmt_animate_file: KMT_ERR_IO: speech.wav: No such file or directory".
    /// </summary>
    [Serializable]
    public class KMTalkException : Exception
    {
        /// <summary>The status code the C function returned (never <see cref="Status.Ok"/>).</summary>
        public Status Status { get; private set; }

        /// <summary>The C function that failed, for example "kmt_animate_file".</summary>
        public string Function { get; private set; }

        /// <summary>The library's message (<c>kmt_last_error()</c>), naming the file and the problem.</summary>
        public string Detail { get; private set; }

        /// <summary>An exception for <paramref name="status"/> returned by <paramref name="function"/>
        /// with the library's <paramref name="detail"/> message.</summary>
        public KMTalkException(Status status, string function, string detail)
            : base(Compose(status, function, detail))
        {
            Status = status;
            Function = function ?? "";
            Detail = detail ?? "";
        }

        /// <summary>The C enumerator name of a status, for example "KMT_ERR_IO";
        /// "KMT_STATUS_&lt;n&gt;" for a value this binding does not know.</summary>
        public static string StatusName(Status status)
        {
            switch (status)
            {
                case Status.Ok: return "KMT_OK";
                case Status.InvalidArgument: return "KMT_ERR_INVALID_ARGUMENT";
                case Status.Io: return "KMT_ERR_IO";
                case Status.UnsupportedFormat: return "KMT_ERR_UNSUPPORTED_FORMAT";
                case Status.InvalidAudio: return "KMT_ERR_INVALID_AUDIO";
                case Status.CorruptModel: return "KMT_ERR_CORRUPT_MODEL";
                case Status.IncompatibleModel: return "KMT_ERR_INCOMPATIBLE_MODEL";
                case Status.OutOfMemory: return "KMT_ERR_OUT_OF_MEMORY";
                case Status.BufferTooSmall: return "KMT_ERR_BUFFER_TOO_SMALL";
                case Status.Internal: return "KMT_ERR_INTERNAL";
                case Status.CorruptRig: return "KMT_ERR_CORRUPT_RIG";
                case Status.Cancelled: return "KMT_ERR_CANCELLED";
                default: return "KMT_STATUS_" + ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        private static string Compose(Status status, string function, string detail)
        {
            string text = StatusName(status);
            if (!string.IsNullOrEmpty(function)) text = function + ": " + text;
            return string.IsNullOrEmpty(detail) ? text : text + ": " + detail;
        }

        /// <summary>Throws for a status other than <see cref="Status.Ok"/>, with the
        /// calling thread's <c>kmt_last_error()</c>. Call it right after the C call.</summary>
        internal static void Check(Status status, string function)
        {
            if (status != Status.Ok)
                throw new KMTalkException(status, function, Utf8.Decode(Native.kmt_last_error()));
        }
    }

    /// <summary>
    /// <see cref="Session.PushMany(System.Collections.Generic.IReadOnlyList{Session}, System.Collections.Generic.IReadOnlyList{float[]}, int, int)"/>
    /// failed for at least one session (<c>kmt_sessions_push_f32</c> / <c>_s16</c>).
    /// <see cref="KMTalkException.Status"/> and <see cref="KMTalkException.Detail"/> are those
    /// of the first session that failed (the detail names its index); <see cref="Statuses"/>
    /// holds every session's outcome. The sessions whose status is <see cref="KMTalk.Status.Ok"/>
    /// were pushed; a failed one is left as a failed <see cref="Session.Push(ReadOnlySpan{float}, int, int)"/>
    /// leaves it. When the arguments themselves were refused (a session listed twice) nothing
    /// was pushed and every entry is that status.
    /// </summary>
    [Serializable]
    public class PushManyException : KMTalkException
    {
        private readonly Status[] statuses;

        /// <summary>An exception for the batched push that returned <paramref name="status"/>,
        /// with each session's status in <paramref name="statuses"/> (copied).</summary>
        public PushManyException(Status status, string function, string detail, Status[] statuses)
            : base(status, function, detail)
        {
            this.statuses = statuses == null ? new Status[0] : (Status[])statuses.Clone();
        }

        /// <summary>Each session's status, in the order of the sessions passed.</summary>
        public System.Collections.Generic.IReadOnlyList<Status> Statuses { get { return statuses; } }

        /// <summary>The index of the first session whose status is not <see cref="KMTalk.Status.Ok"/>; -1 if none.</summary>
        public int FirstFailed { get { return Array.FindIndex(statuses, s => s != Status.Ok); } }
    }
}
