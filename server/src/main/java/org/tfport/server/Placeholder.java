package org.tfport.server; final class Placeholder {}
