// SPDX-License-Identifier: MIT
// LayoutDump.exe KMTalk.dll -- prints what the .NET runtime makes of the binding's
// declarations, in the line format of bindings/csharp/tests/layout.py, which compares them
// with what the C compiler makes of include/kmtalk.h:
//   struct S size N / field S.f offset O size N   (Marshal.SizeOf / Marshal.OffsetOf of Native's structs)
//   enum E size N / const E.NAME = V              (the public enums, under their C names)
//   define NAME = V                               (Native's constants)
//   function NAME [Conv]: RET(T1, T2)             (Native's DllImports, .NET type names)
//   callback NAME: RET(T1, T2)                    (Native's delegates)
//   enummap kmt_E CSharpType                      (which C# enum stands for which C enum)
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

internal static class LayoutDump
{
    // The C enums and how their constants are spelled in C#: the C name is the prefix plus
    // the C# member name in UPPER_SNAKE case (KMT_OK is the one exception, Status.Ok).
    private static readonly Dictionary<string, KeyValuePair<string, string>> Enums = new Dictionary<string, KeyValuePair<string, string>>
    {
        { "KMTalk.Status", new KeyValuePair<string, string>("kmt_status", "KMT_ERR_") },
        { "KMTalk.LogLevel", new KeyValuePair<string, string>("kmt_log_level", "KMT_LOG_") },
        { "KMTalk.NonfinitePolicy", new KeyValuePair<string, string>("kmt_nonfinite_policy", "KMT_NONFINITE_") },
        { "KMTalk.VertexMode", new KeyValuePair<string, string>("kmt_vertex_mode", "KMT_VERTICES_") },
        { "KMTalk.ExportFormat", new KeyValuePair<string, string>("kmt_export_format", "KMT_EXPORT_") },
    };

    private static string UpperSnake(string name)
    {
        var s = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]))) s.Append('_');
            s.Append(char.ToUpperInvariant(name[i]));
        }
        return s.ToString();
    }

    private static string TypeName(Type t)
    {
        return t.FullName;  // "System.UIntPtr&", "KMTalk.Native+kmt_session_params&", "System.Byte[]"
    }

    private static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: LayoutDump.exe KMTalk.dll");
            return 2;
        }
        Assembly assembly = Assembly.LoadFrom(args[0]);
        Type native = assembly.GetType("KMTalk.Native", true);
        var lines = new List<string>();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

        foreach (Type nested in native.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (nested.IsValueType && !nested.IsEnum)
            {
                if (!nested.IsLayoutSequential) lines.Add("layout " + nested.Name + " is not LayoutKind.Sequential");
                lines.Add("struct " + nested.Name + " size " + Marshal.SizeOf(nested));
                foreach (FieldInfo field in nested.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
                {
                    Type ft = field.FieldType.IsEnum ? Enum.GetUnderlyingType(field.FieldType) : field.FieldType;
                    lines.Add("field " + nested.Name + "." + field.Name + " offset " + Marshal.OffsetOf(nested, field.Name).ToInt64()
                              + " size " + Marshal.SizeOf(ft));
                }
            }
            else if (typeof(Delegate).IsAssignableFrom(nested))
            {
                MethodInfo invoke = nested.GetMethod("Invoke");
                var attr = (UnmanagedFunctionPointerAttribute)nested.GetCustomAttributes(typeof(UnmanagedFunctionPointerAttribute), false).FirstOrDefault();
                string conv = attr == null ? "none" : attr.CallingConvention.ToString();
                if (conv != "Cdecl") lines.Add("callconv of delegate " + nested.Name + " is " + conv);
                lines.Add("callback " + nested.Name + ": " + TypeName(invoke.ReturnType) + "("
                          + string.Join(", ", invoke.GetParameters().Select(p => TypeName(p.ParameterType)).ToArray()) + ")");
            }
        }

        foreach (FieldInfo field in native.GetFields(all))
        {
            if (!field.IsLiteral || !field.Name.StartsWith("KMT_", StringComparison.Ordinal)) continue;
            object value = field.GetRawConstantValue();
            string text = value is string ? "\"" + value + "\"" : Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
            lines.Add("define " + field.Name + " = " + text);
        }

        foreach (MethodInfo method in native.GetMethods(all))
        {
            if ((method.Attributes & MethodAttributes.PinvokeImpl) == 0) continue;
            var import = (DllImportAttribute)method.GetCustomAttributes(typeof(DllImportAttribute), false).FirstOrDefault();
            string entry = import == null ? method.Name : (import.EntryPoint ?? method.Name);
            string conv = import == null ? "unknown" : import.CallingConvention.ToString();
            if (import != null && import.Value != "KMTalk") lines.Add("dllimport " + method.Name + " loads " + import.Value + ", not KMTalk");
            if (entry != method.Name) lines.Add("dllimport " + method.Name + " has EntryPoint " + entry);
            lines.Add("function " + entry + " [" + conv + "]: " + TypeName(method.ReturnType) + "("
                      + string.Join(", ", method.GetParameters().Select(p => TypeName(p.ParameterType)).ToArray()) + ")");
        }

        foreach (KeyValuePair<string, KeyValuePair<string, string>> entry in Enums)
        {
            Type type = assembly.GetType(entry.Key, true);
            string cName = entry.Value.Key;
            lines.Add("enummap " + cName + " " + type.FullName);
            lines.Add("enum " + cName + " size " + Marshal.SizeOf(Enum.GetUnderlyingType(type)));
            foreach (string member in Enum.GetNames(type))
            {
                string constant = cName == "kmt_status" && member == "Ok" ? "KMT_OK" : entry.Value.Value + UpperSnake(member);
                long value = Convert.ToInt64(Enum.Parse(type, member), CultureInfo.InvariantCulture);
                lines.Add("const " + cName + "." + constant + " = " + value);
            }
        }
        foreach (Type type in assembly.GetTypes())
            if (type.IsEnum && type.IsPublic && type.Namespace == "KMTalk" && !Enums.ContainsKey(type.FullName))
                lines.Add("enum type " + type.FullName + " is not in LayoutDump.cs's table");

        foreach (string line in lines) Console.WriteLine(line);
        return 0;
    }
}
