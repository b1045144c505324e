// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using UnityEngine;

namespace KMTalk.Unity
{
    /// <summary>
    /// Loads each model once for all the KMTalk components of a scene: a model is immutable
    /// and shareable across threads, so characters using the same file share one
    /// <see cref="Model"/>; it is disposed when the last component releases it.
    /// </summary>
    public static class KMTalkModelCache
    {
        private sealed class Entry
        {
            public Model Model;
            public int References;
        }

        private static readonly object gate = new object();
        private static readonly Dictionary<string, Entry> entries = new Dictionary<string, Entry>();

        /// <summary>The file a component's model path names: an absolute path as it is, a relative
        /// one under Application.streamingAssetsPath.</summary>
        public static string ResolvePath(string modelPath)
        {
            if (string.IsNullOrEmpty(modelPath)) throw new ArgumentException("no model path given", "modelPath");
            return Path.IsPathRooted(modelPath) ? modelPath : Path.Combine(Application.streamingAssetsPath, modelPath);
        }

        /// <summary>
        /// The model of <paramref name="asset"/> when one is given (a TextAsset: the model file
        /// renamed to .bytes, which also works where StreamingAssets is not a folder, as on
        /// Android and WebGL), else of the file <paramref name="modelPath"/>. Every Acquire must be
        /// matched by a <see cref="Release"/> with the same <paramref name="key"/>.
        /// </summary>
        /// <exception cref="KMTalkException">The model cannot be loaded (the message names the file).</exception>
        public static Model Acquire(string modelPath, TextAsset asset, out string key)
        {
            key = asset != null ? "asset:" + asset.name + ":" + asset.GetHashCode() : "file:" + ResolvePath(modelPath);
            lock (gate)
            {
                Entry entry;
                if (!entries.TryGetValue(key, out entry))
                {
                    Model model = asset != null ? Model.FromMemory(asset.bytes) : new Model(ResolvePath(modelPath));
                    entry = new Entry { Model = model };
                    entries.Add(key, entry);
                }
                entry.References++;
                return entry.Model;
            }
        }

        /// <summary>Releases a model obtained with <see cref="Acquire"/>; null or unknown keys are ignored.</summary>
        public static void Release(string key)
        {
            if (key == null) return;
            lock (gate)
            {
                Entry entry;
                if (!entries.TryGetValue(key, out entry)) return;
                if (--entry.References > 0) return;
                entries.Remove(key);
                entry.Model.Dispose();
            }
        }
    }
}
