// Lays out what the page serves and the bundler reads, in the temp directory:
//   www/node_modules/kysely-multitab-opfs  the packed tarball, extracted
//   www/node_modules/kysely                the kysely release under test (copied from this repo's
//                                          node_modules when it is that version, else npm-installed)
//   www/node_modules/<test tools>          only those whose version differs from this repo's
//   www/mocha.js                           mocha's browser build
// Nothing is installed into this repo's node_modules.
import { execFileSync } from 'node:child_process'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

function packageName(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

async function versionIn(nodeModules, name) {
  const path = join(nodeModules, name, 'package.json')
  return existsSync(path) ? JSON.parse(await readFile(path, 'utf8')).version : undefined
}

/** The bare modules the test files import, other than the ones replaced or served. */
async function testDependencies(testDir, files, skip) {
  const names = new Set(['mocha'])
  for (const file of files) {
    const source = await readFile(join(testDir, file), 'utf8')
    for (const [, spec] of source.matchAll(/\bfrom\s+'([^'.][^']*)'/g)) {
      if (!skip(spec)) names.add(packageName(spec))
    }
  }
  return [...names].sort()
}

function npmInstall(dir, specs) {
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--engine-strict=false', '--loglevel=error', ...specs],
    { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] },
  )
}

export async function installPackages({ repoRoot, www, tarball, versions, tests, isReplaced }) {
  const modules = join(www, 'node_modules')
  const repoModules = join(repoRoot, 'node_modules')
  await mkdir(modules, { recursive: true })
  await writeFile(join(www, 'package.json'), JSON.stringify({ private: true, name: 'kysely-suite-run' }))

  const wanted = tests.packageJson.devDependencies ?? {}
  const fromRegistry = versions.useInstalledKysely ? [] : [`kysely@${versions.version}`]
  const used = {}

  for (const name of await testDependencies(tests.dir, tests.testFiles.concat('test-setup.ts'), isReplaced)) {
    const mine = await versionIn(repoModules, name)
    const spec = wanted[name]
    const pinned = spec?.startsWith('npm:') ? spec.slice(spec.lastIndexOf('@') + 1) : spec
    if (spec && pinned !== mine) {
      fromRegistry.push(`${name}@${spec}`)
      used[name] = `${spec} (installed in the temp dir)`
    } else if (mine) used[name] = mine
    else throw new Error(`the tests import ${name}, which neither this repo nor ${tests.tag}'s package.json provides`)
  }
  // npm install prunes what it did not install: copy and extract only after it.
  if (fromRegistry.length) npmInstall(www, fromRegistry)
  if (versions.useInstalledKysely) await cp(join(repoModules, 'kysely'), join(modules, 'kysely'), { recursive: true })
  await mkdir(join(modules, 'kysely-multitab-opfs'))
  execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'kysely-multitab-opfs'), '--strip-components=1'])

  const kysely = await versionIn(modules, 'kysely')
  if (kysely !== versions.version) throw new Error(`expected kysely ${versions.version} in ${modules}, found ${kysely}`)
  const mochaDir = existsSync(join(modules, 'mocha/mocha.js')) ? join(modules, 'mocha') : join(repoModules, 'mocha')
  await cp(join(mochaDir, 'mocha.js'), join(www, 'mocha.js'))
  return {
    kysely,
    kyselyEntry: `/node_modules/kysely/${await esmEntry(join(modules, 'kysely'))}`,
    dialectEntry: `/node_modules/kysely-multitab-opfs/${await esmEntry(join(modules, 'kysely-multitab-opfs'))}`,
    tools: used,
    nodePaths: [modules, repoModules],
  }
}

/** The file a browser's `import 'pkg'` gets: exports['.'] import (or default) condition. */
async function esmEntry(dir) {
  const { exports, module, main } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
  const root = typeof exports === 'string' ? exports : exports?.['.']
  const entry = typeof root === 'string' ? root : (root?.browser ?? root?.import ?? root?.default ?? module ?? main)
  return entry.replace(/^\.\//, '')
}
