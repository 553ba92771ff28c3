#!/usr/bin/env node
// The published `tessera` command: the compiled CLI, no TypeScript loader.
import './main.js';
