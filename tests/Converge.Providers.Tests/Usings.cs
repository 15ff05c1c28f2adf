global using Converge.Compiler.Catalog;
global using Converge.Machine;
global using Converge.Manifests.Diagnostics;
global using Converge.Providers.Common;
global using Converge.Providers.Contract;
global using Converge.Providers.Tests.Kit;
global using IOFile = System.IO.File;
global using IODirectory = System.IO.Directory;
