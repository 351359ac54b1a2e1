using System.Reflection;

namespace ImageGen.Tests.Unit;

/// <summary>
/// Which types call a method, read from the compiled code of the services: every method body (async state machines and
/// lambdas included, named by the type they were written in) is searched for a <c>call</c> or <c>callvirt</c> whose
/// operand resolves to the method. For tests that hold a rule to one place in the code.
/// </summary>
internal static class CallSites
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The services' assemblies: where production code lives.</summary>
    public static Assembly[] Services =>
    [
        .. new[] { "ImageGen.Api", "ImageGen.Worker", "ImageGen.Web", "ImageGen.Data", "ImageGen.Core", "ImageGen.Rendering" }
            .Select(name => Assembly.Load(new AssemblyName(name))),
    ];

    /// <summary>The full names of the types (outermost, as written) whose code calls <paramref name="target"/>.</summary>
    public static SortedSet<string> CallersOf(MethodBase target, IEnumerable<Assembly> assemblies) => CallersOf([target], assemblies);

    /// <summary>
    /// The full names of the types whose code calls any of <paramref name="targets"/>, in one pass over the IL: each
    /// token is resolved once per module (where no generic context changes what it names), as most bytes that look
    /// like a call are not one and resolving them is what costs.
    /// </summary>
    public static SortedSet<string> CallersOf(IReadOnlyCollection<MethodBase> targets, IEnumerable<Assembly> assemblies)
    {
        var wanted = targets.Select(t => (t.Module, t.MetadataToken)).ToHashSet();
        var resolved = new Dictionary<(Module, int), MethodBase?>();
        var callers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assemblies.SelectMany(LoadableTypes))
        {
            foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
            {
                if (Calls(method, wanted, resolved))
                {
                    callers.Add(Outermost(type).FullName!);
                }
            }
        }

        return callers;
    }

    private static bool Calls(MethodBase method, HashSet<(Module, int)> wanted, Dictionary<(Module, int), MethodBase?> resolved)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException)
        {
            return false;
        }

        if (il is null)
        {
            return false;
        }

        var generic = method.DeclaringType?.IsGenericType == true || method.IsGenericMethod;
        for (var i = 0; i + 4 < il.Length; i++)
        {
            // call (0x28) and callvirt (0x6F) take a method token.
            if (il[i] is not (0x28 or 0x6F))
            {
                continue;
            }

            var token = BitConverter.ToInt32(il, i + 1);
            if ((token >> 24) is not (0x06 or 0x0A or 0x2B))
            {
                continue;
            }

            var key = (method.Module, token);
            if (generic || !resolved.TryGetValue(key, out var called))
            {
                called = Resolve(method, token);
                if (!generic)
                {
                    resolved[key] = called;
                }
            }

            if (called is not null && wanted.Contains((called.Module, called.MetadataToken)))
            {
                return true;
            }
        }

        return false;
    }

    private static MethodBase? Resolve(MethodBase method, int token)
    {
        try
        {
            return method.Module.ResolveMethod(token,
                method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null,
                method.IsGenericMethod ? method.GetGenericArguments() : null);
        }
        catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMethodException)
        {
            // Not a method token after all (an operand of another instruction that looks like one).
            return null;
        }
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }
}
