#Requires -Version 7.4
Describe 'The Sysprog module' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # The assembled manifest: RootModule and FormatsToProcess resolve there.
        $script:manifest = Test-ModuleManifest -Path $SysprogModulePath
    }

    It 'has a valid manifest whose exports are the loaded cmdlets' {
        $script:manifest.Name | Should -Be 'Sysprog'
        $exported = (Get-Command -Module Sysprog -CommandType Cmdlet).Name | Sort-Object
        $exported | Should -Be ($script:manifest.ExportedCmdlets.Keys | Sort-Object)
    }

    It 'uses approved verbs only' {
        $approved = (Get-Verb).Verb
        (Get-Command -Module Sysprog).Verb | Where-Object { $_ -notin $approved } | Should -BeNullOrEmpty
    }

    It 'has a table view for the output type of every cmdlet' {
        $types = Get-Command -Module Sysprog | ForEach-Object { $_.OutputType.Type } | Where-Object Namespace -EQ 'Sysprog' | Sort-Object FullName -Unique
        $types.Count | Should -BeGreaterThan 10
        foreach ($type in $types) {
            $format = Get-FormatData -TypeName $type.FullName
            $format | Should -Not -BeNullOrEmpty -Because "$($type.FullName) needs a view"
            $format.FormatViewDefinition.Control | Where-Object { $_ -is [System.Management.Automation.TableControl] } |
                Should -Not -BeNullOrEmpty -Because "$($type.FullName) needs a table view"
        }
    }

    It 'parses every PowerShell file of the repository' {
        $root = Join-Path $PSScriptRoot '..'
        $files = Get-ChildItem -LiteralPath $root -Recurse -Include '*.ps1', '*.psm1', '*.psd1' -File |
            Where-Object FullName -NotMatch '[\\/](out|bin|obj|node_modules)[\\/]'
        $files.Count | Should -BeGreaterThan 5
        foreach ($file in $files) {
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseFile($file.FullName, [ref] $null, [ref] $errors)
            $errors | Should -BeNullOrEmpty -Because $file.FullName
        }
    }

    It 'formats its objects without errors' {
        $map = New-MemoryMap -Anonymous -Size 4KB
        try {
            ($map | Format-Table | Out-String) | Should -Match '0x[0-9a-f]+'
            (Get-ProcessMapping | Select-Object -First 3 | Format-Table | Out-String) | Should -Match 'Perms'
        }
        finally {
            Close-MemoryMap $map
        }
    }

    Context 'Help, from the MAML committed in module/en-US (what platyPS makes of docs/)' {
        BeforeDiscovery {
            $script:commands = @((Import-PowerShellDataFile (Join-Path $PSScriptRoot '..' 'Sysprog.psd1')).CmdletsToExport | ForEach-Object { @{ Name = $_ } })
        }

        BeforeAll {
            $script:helpFile = Join-Path (Split-Path -Parent (Get-Module Sysprog).Path) 'en-US' 'Sysprog.PowerShell.dll-Help.xml'
        }

        It 'is shipped with the module' {
            $script:helpFile | Should -Exist -Because 'the build copies module/en-US into the module'
        }

        It 'is what platyPS makes of docs/ now' {
            # platyPS is in no package registry, so a machine may lack it; CI has it and sets SYSPROG_REQUIRE_PLATYPS.
            $platyPS = Get-Module -ListAvailable -Name platyPS | Where-Object Version -LT ([version]'2.0') | Sort-Object Version -Descending | Select-Object -First 1
            if (-not $platyPS) {
                if ($env:SYSPROG_REQUIRE_PLATYPS) {
                    throw 'platyPS 0.14 is not installed, and SYSPROG_REQUIRE_PLATYPS asks for the committed help to be checked.'
                }
                Set-ItResult -Skipped -Because 'platyPS 0.14 is not installed (no package registry carries it), so the committed help cannot be compared with docs/'
                return
            }
            # Made by the build's own Docs task, so the pages it takes are the ones compared.
            $made = Join-Path $TestDrive 'help'
            $null = & (Join-Path $PSScriptRoot '..' 'build.ps1') -Task Docs -HelpPath $made 6>&1
            $committed = Join-Path $PSScriptRoot '..' 'module' 'en-US' 'Sysprog.PowerShell.dll-Help.xml'
            $current = (Get-FileHash -LiteralPath (Join-Path $made 'Sysprog.PowerShell.dll-Help.xml')).Hash -eq (Get-FileHash -LiteralPath $committed).Hash
            $current | Should -BeTrue -Because 'docs/ changed since the help was made: run ./build.ps1 -Task Docs and commit module/en-US'
        }

        It '<Name> has the synopsis of its docs page, a description of every parameter and an example' -ForEach $script:commands {
            $help = Get-Help $Name -Full
            $page = Get-Content -LiteralPath (Join-Path $PSScriptRoot '..' 'docs' "$Name.md")
            $help.Synopsis | Should -Be $page[([array]::IndexOf($page, '## SYNOPSIS') + 1)]
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 1
            $help.Examples.Example[0].Code | Should -Not -BeNullOrEmpty
            foreach ($parameter in (Get-Command $Name).Parameters.Values | Where-Object { $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and $_.Name -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters }) {
                $described = $help.Parameters.Parameter | Where-Object Name -EQ $parameter.Name
                ($described.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "$Name -$($parameter.Name) needs a description"
            }
        }

        It 'about_Sysprog is there' {
            $about = Get-Help about_Sysprog
            ($about | Out-String) | Should -Match 'about_Sysprog'
            ($about | Out-String) | Should -Match 'errno'
        }
    }
}
