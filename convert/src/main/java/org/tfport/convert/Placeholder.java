package org.tfport.convert; final class Placeholder {}
