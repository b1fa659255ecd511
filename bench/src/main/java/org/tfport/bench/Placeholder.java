package org.tfport.bench; final class Placeholder {}
